package dev.podvisor.shim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The shim daemon's listening socket, bound by the {@code start} that goes on as the daemon
 * (docs/decisions/0009-start-goes-on-as-the-daemon.md). containerd dials what {@code start} prints once, without
 * retrying (containerd v1.6 runtime/v2/shim/util_unix.go {@code AnonDialer}), so it listens before {@code start}
 * prints; connections made before the daemon accepts wait in the backlog.
 */
final class ShimSocket {

    /** The listen backlog: containerd's dials for every container of the pod, queued while the daemon starts. */
    static final int BACKLOG = 128;

    private ShimSocket() {
    }

    /**
     * Binds and listens on {@code socket} with the JDK (mode 0600), making its directory if needed and removing a
     * stale socket file whose listener is gone (a daemon that died without cleaning up).
     *
     * @throws UncheckedIOException naming the socket when binding fails
     */
    static ServerSocketChannel bind(Path socket) {
        try {
            Files.createDirectories(socket.getParent());
            removeIfStale(socket);
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.bind(UnixDomainSocketAddress.of(socket), BACKLOG);
                Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            return channel;
        } catch (IOException e) {
            throw new UncheckedIOException("listening on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** Removes {@code socket} when nobody listens on it. */
    private static void removeIfStale(Path socket) throws IOException {
        if (Files.exists(socket) && !StartCommand.connectable(socket)) {
            Files.delete(socket);
        }
    }
}
