package dev.podvisor.sandbox;

import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * Removes a shim daemon's socket under containerd's {@code /run/containerd/s} when its daemon died without
 * removing it (SIGKILL, OOM kill). Only a socket that Podvisor provably made and whose owner is provably gone:
 * <ul>
 *   <li>the bundle has {@code address} (written by Podvisor's {@code start}) naming a path directly under
 *       {@code /run/containerd/s/} and {@code shim.pid} (written for the daemon it started);</li>
 *   <li>no process with that pid runs Podvisor's shim ({@code dev.podvisor.shim.ShimMain});</li>
 *   <li>the path is a unix socket and a connect to it is refused.</li>
 * </ul>
 * Anything else is left alone.
 */
final class StaleShimSocket {

    /** containerd's directory of shim sockets (containerd: runtime/v2/shim/util_unix.go). */
    static final Path SOCKET_DIR = Path.of("/run/containerd/s");

    private StaleShimSocket() {
    }

    /**
     * Removes the socket named by {@code <bundle>/address} when every condition of the class holds.
     *
     * @return whether a socket was removed
     */
    static boolean removeIfDead(Path bundle, LogfmtLog log) {
        try {
            Path addressFile = bundle.resolve("address");
            Path pidFile = bundle.resolve("shim.pid");
            if (!Files.isRegularFile(addressFile) || !Files.isRegularFile(pidFile)) {
                return false;
            }
            String address = Files.readString(addressFile, StandardCharsets.UTF_8).strip();
            if (!address.startsWith("unix://")) {
                return false;
            }
            Path socket = Path.of(address.substring("unix://".length())).normalize();
            if (!SOCKET_DIR.equals(socket.getParent())) {
                return false;
            }
            long pid = Long.parseLong(Files.readString(pidFile, StandardCharsets.UTF_8).strip());
            boolean daemonRuns = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                    .flatMap(h -> h.info().commandLine()).map(c -> c.contains("dev.podvisor.shim.ShimMain")).orElse(false);
            if (daemonRuns || !isSocket(socket) || connectable(socket)) {
                return false;
            }
            Files.deleteIfExists(socket);
            log.info("removed the socket of a dead shim daemon", "socket", socket, "pid", pid);
            return true;
        } catch (IOException | RuntimeException e) {
            log.warn("checking the shim socket failed", "bundle", bundle, "error", String.valueOf(e));
            return false;
        }
    }

    private static boolean isSocket(Path path) throws IOException {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & 0170000) == 0140000;
    }

    private static boolean connectable(Path socket) {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
