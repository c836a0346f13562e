package dev.podvisor.shim.metrics;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.sandbox.metrics.PromText;
import dev.podvisor.sandbox.metrics.SandboxProbe;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The shim's management HTTP API on {@code <management_dir>/<sandbox id>/shim-monitor.sock}, where Kata's Go
 * shim serves it (kata-containers: src/runtime/pkg/containerd-shim-v2/shim_management.go) and kata-monitor
 * looks for it; started once the sandbox has booted, as Kata starts it after the sandbox is created.
 * Paths: {@code GET /metrics} (Prometheus text, see {@link PodMetrics}), {@code GET /agent-url}, and Kata's
 * {@code GET /direct-volume/stats?path=DEVICE} and {@code POST /direct-volume/resize} (see
 * {@link DirectVolumeRoutes}). The socket is 0600 (root, like containerd's); it and the sandbox's directory, when this
 * server created it, are removed by {@link #close()}. Like Kata, the address is also written to the sandbox
 * bundle's {@code monitor_address}, so {@code delete} can remove the socket of a shim that was killed
 * ({@link #removeStale}).
 */
public final class ManagementServer implements AutoCloseable {

    /** The bundle file holding the socket's address, as Kata's shim writes it. */
    public static final String ADDRESS_FILE = "monitor_address";

    private final String sandboxId;
    private final Path bundle;
    private final PodMetrics metrics;
    private final LogfmtLog log;
    private HttpServer server;
    private Path socket;
    private boolean createdDir;

    /**
     * @param sandboxId the pod's sandbox id (names the socket's directory)
     * @param bundle    the sandbox container's bundle (gets {@value #ADDRESS_FILE})
     * @param metrics   what {@code /metrics} serves
     */
    public ManagementServer(String sandboxId, Path bundle, PodMetrics metrics, LogfmtLog log) {
        this.sandboxId = sandboxId;
        this.bundle = bundle;
        this.metrics = metrics;
        this.log = log;
    }

    /** The routes; a new management path is one more line here. */
    HttpRoutes routes() {
        return new HttpRoutes()
                .get("/metrics", request -> HttpResponse.ok(PromText.CONTENT_TYPE, metrics.scrape()))
                .get("/agent-url", request -> {
                    SandboxProbe probe = metrics.probe();
                    return probe == null ? HttpResponse.text(503, "sandbox not booted\n")
                            : HttpResponse.text(200, probe.agentUrl());
                })
                .get(DirectVolumeRoutes.STATS, request -> DirectVolumeRoutes.stats(metrics.probe(), request))
                .add(DirectVolumeRoutes.RESIZE, java.util.Set.of("POST", "PUT"),
                        request -> DirectVolumeRoutes.resize(metrics.probe(), request));
    }

    /**
     * Binds the socket for a booted sandbox and serves it. A failure is logged, never thrown: the pod runs
     * without its management API rather than not at all.
     */
    public synchronized void start(SandboxProbe probe) {
        if (server != null) {
            return;
        }
        Path path = probe.socket(sandboxId);
        try {
            Path dir = path.getParent();
            createdDir = !Files.isDirectory(dir);
            Files.createDirectories(dir);
            if (Files.exists(path) && !connectable(path)) {
                Files.delete(path); // stale: a shim that died without cleaning up
            }
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            channel.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            socket = path;
            server = new HttpServer(routes(), error -> log.debug("management request failed", "error", error));
            server.serve(channel);
            Files.writeString(bundle.resolve(ADDRESS_FILE), "unix://" + path);
            log.info("management API listening", "address", "unix://" + path);
        } catch (IOException | RuntimeException e) {
            log.warn("management API not started", "address", "unix://" + path, "error", String.valueOf(e));
        }
    }

    /** Stops serving and removes the socket (and the sandbox's directory when this server made it). */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        server.close();
        try {
            Files.deleteIfExists(socket);
            if (createdDir) {
                Files.deleteIfExists(socket.getParent());
            }
        } catch (IOException e) {
            log.debug("management socket not removed", "path", socket, "error", e.getMessage());
        }
        server = null;
    }

    /**
     * Removes the management socket named by {@code <bundle>/monitor_address} when nobody listens on it any
     * more (its shim was killed), and its directory when empty. A socket that answers is left alone.
     */
    public static void removeStale(Path bundle, LogfmtLog log) {
        String address;
        try {
            address = Files.readString(bundle.resolve(ADDRESS_FILE)).strip();
        } catch (IOException e) {
            return; // not a sandbox bundle, or the shim never served
        }
        if (!address.startsWith("unix://")) {
            return;
        }
        Path path = Path.of(address.substring("unix://".length()));
        if (!path.getFileName().toString().equals(SandboxProbe.SOCKET_NAME) || !Files.exists(path) || connectable(path)) {
            return;
        }
        try {
            Files.deleteIfExists(path);
            try (var rest = Files.list(path.getParent())) {
                if (rest.findAny().isEmpty()) {
                    Files.delete(path.getParent());
                }
            }
        } catch (IOException e) {
            log.warn("stale management socket not removed", "path", path, "error", e.getMessage());
        }
    }

    private static boolean connectable(Path path) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
