package dev.podvisor.it.snapshotter;

import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A containerd proxy snapshotter for one test, in the test's process: containerd's snapshots gRPC API
 * ({@link SnapshotsService}) served by grpc-java over Netty epoll on a unix socket, snapshots kept by a
 * {@link SnapshotStore} as ext4 images on loop devices ({@link LoopImageDisks}). This kernel has no
 * device-mapper; the mounts it hands out ({@code ext4} on {@code /dev/loopN}) have the shape of devmapper's.
 * containerd uses it through a {@code [proxy_plugins.<name>] type = "snapshot" address = "<socket>"} entry.
 *
 * <pre>{@code
 * try (ProxySnapshotter snap = ProxySnapshotter.start(dir.resolve("snapshots"), dir.resolve("snap.sock"));
 *      PrivateContainerd c = PrivateContainerd.builder().proxySnapshotter("podblk", snap.socket()).start()) {
 *     c.ctr("run", "--snapshotter", "podblk", ...);
 * } // containerd stops first, then every loop device is detached and every image, the socket and dir removed
 * }</pre>
 */
public final class ProxySnapshotter implements AutoCloseable {

    private final Path dir;
    private final Path socket;
    private final SnapshotStore store;
    private final Server server;
    private final EventLoopGroup group;
    private final ExecutorService calls;
    private boolean closed;

    private ProxySnapshotter(Path dir, Path socket, SnapshotStore store, Server server, EventLoopGroup group,
                             ExecutorService calls) {
        this.dir = dir;
        this.socket = socket;
        this.store = store;
        this.server = server;
        this.group = group;
        this.calls = calls;
    }

    /**
     * Starts serving.
     *
     * @param dir    a directory to create (must not exist) for the image files; removed by {@link #close()}
     * @param socket the unix socket to listen on (must not exist; at most ~100 bytes); removed by {@link #close()}
     * @return the running snapshotter
     * @throws UncheckedIOException when the directory cannot be made or the socket not bound (nothing is left then)
     */
    public static ProxySnapshotter start(Path dir, Path socket) {
        try {
            Files.createDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("proxy snapshotter dir " + dir + ": " + e.getMessage(), e);
        }
        SnapshotStore store = new SnapshotStore(dir, new LoopImageDisks());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
        Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toFile()))
                .channelType(EpollServerDomainSocketChannel.class).bossEventLoopGroup(group).workerEventLoopGroup(group)
                .executor(calls).addService(new SnapshotsService(store)).build();
        try {
            server.start();
        } catch (IOException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            calls.shutdownNow();
            try {
                Files.deleteIfExists(dir);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("proxy snapshotter socket " + socket + ": " + e.getMessage(), e);
        }
        return new ProxySnapshotter(dir, socket, store, server, group, calls);
    }

    /** @return the unix socket containerd dials */
    public Path socket() {
        return socket;
    }

    /** @return the directory of the image files */
    public Path dir() {
        return dir;
    }

    /**
     * @return the loop devices of the active (read-write) snapshots, by snapshot key; e.g. the rootfs of a
     *         running container
     */
    public Map<String, String> activeDevices() {
        return store.list().stream().filter(s -> s.kind() == dev.podvisor.it.snapshotter.api.Kind.ACTIVE)
                .collect(Collectors.toMap(Snapshot::name, Snapshot::device));
    }

    /** @return the names of every snapshot it holds */
    public List<String> names() {
        return store.list().stream().map(Snapshot::name).toList();
    }

    /**
     * Stops serving, detaches every loop device and deletes every image, the socket and the directory. Idempotent.
     *
     * @throws IllegalStateException when something could not be removed (after trying everything)
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.shutdownNow();
        try {
            server.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        calls.shutdownNow();
        try {
            store.close();
        } finally {
            try {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("proxy snapshotter: cannot remove " + socket + " or " + dir, e);
            }
        }
    }
}
