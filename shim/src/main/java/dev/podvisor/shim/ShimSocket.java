package dev.podvisor.shim;

import dev.podvisor.storage.linux.Dup2;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channel;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The shim daemon's listening socket, made by {@code start} and handed to the daemon on its fd 0
 * (docs/decisions/0005-start-passes-the-listening-socket.md). containerd dials what {@code start} prints once,
 * without retrying (containerd v1.6 runtime/v2/shim/util_unix.go {@code AnonDialer}); Go shims bind in
 * {@code start} and pass the socket as fd 3 ({@code ExtraFiles}); the JDK passes only fds 0–2 to a child, so
 * {@code start} puts the socket on its own fd 0 and spawns the daemon with stdin inherited. Connections made
 * before the daemon accepts wait in the socket's backlog; if the daemon dies first, the last holder is gone and
 * those clients read end-of-stream at once.
 */
final class ShimSocket {

    /** The listen backlog: containerd's dials for every container of the pod, queued while the daemon starts. */
    static final int BACKLOG = 128;

    private ShimSocket() {
    }

    /**
     * {@code start}'s half: binds and listens on {@code socket} with the JDK (removing a stale socket file whose
     * listener is gone, making the directory if needed; mode 0600) and makes the listener this process's fd 0,
     * to be inherited by a child spawned with {@code Redirect.INHERIT} stdin. The JDK does not tell a channel's
     * fd, so {@link #fdOf} finds it through {@code /proc}. The caller removes the file if
     * the child cannot be started.
     *
     * @throws UncheckedIOException naming the socket when it cannot be bound
     * @throws IllegalStateException when the new socket's fd cannot be told apart
     */
    static void listenOnStdin(Path socket) {
        ServerSocketChannel listener = bind(socket);
        try (listener) {
            Dup2.dup2(fdOf(socket), 0);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(socket);
            if (e instanceof IOException io) {
                throw new UncheckedIOException("listening on " + socket + ": " + e.getMessage(), io);
            }
            throw (RuntimeException) e;
        }
    }

    /**
     * This process's fd of the unix socket bound to {@code path}: the socket's inode from
     * {@code /proc/net/unix} ({@code Num RefCount Protocol Flags Type St Inode Path}), then the fd whose
     * {@code /proc/self/fd} link is {@code socket:[inode]}.
     *
     * @throws IllegalStateException when no such fd is found
     */
    static int fdOf(Path path) throws IOException {
        Set<String> targets = new HashSet<>();
        try (var lines = Files.lines(Path.of("/proc/net/unix"))) {
            lines.map(line -> line.trim().split("\\s+"))
                    .filter(fields -> fields.length == 8 && fields[7].equals(path.toString()))
                    .forEach(fields -> targets.add("socket:[" + fields[6] + "]"));
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path entry : entries) {
                try {
                    if (targets.contains(Files.readSymbolicLink(entry).toString())) {
                        return Integer.parseInt(entry.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // the directory stream's own fd, gone by now
                }
            }
        }
        throw new IllegalStateException("no fd of this process is the socket bound to " + path
                + " (/proc/net/unix names " + targets + ")");
    }

    private static void deleteQuietly(Path socket) {
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the first failure is what matters
        }
    }

    /**
     * The daemon's half: the listener {@code start} passed on fd 0 when that is a listening unix socket bound to
     * {@code socket} ({@link System#inheritedChannel()}, which knows unix-domain listeners since JDK 16); else a
     * socket bound here (a daemon started by hand or by an older {@code start}), removing a stale file first.
     *
     * @throws UncheckedIOException naming the socket when binding fails
     */
    static ServerSocketChannel take(Path socket) {
        return inherited(socket).orElseGet(() -> bind(socket));
    }

    /** The listener on fd 0 when it is bound to {@code socket}; empty for anything else on fd 0. */
    static Optional<ServerSocketChannel> inherited(Path socket) {
        try {
            Channel channel = System.inheritedChannel();
            if (channel instanceof ServerSocketChannel listener
                    && listener.getLocalAddress() instanceof UnixDomainSocketAddress address
                    && address.getPath().equals(socket)) {
                listener.configureBlocking(true);
                return Optional.of(listener);
            }
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Binds and listens on {@code socket} (mode 0600), removing a stale socket file first. */
    static ServerSocketChannel bind(Path socket) {
        try {
            Files.createDirectories(socket.getParent());
            removeIfStale(socket);
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            channel.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            return channel;
        } catch (IOException e) {
            throw new UncheckedIOException("listening on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Removes {@code socket} when nobody listens on it: a daemon that died without cleaning up. */
    private static void removeIfStale(Path socket) throws IOException {
        if (Files.exists(socket) && !StartCommand.connectable(socket)) {
            Files.delete(socket);
        }
    }
}
