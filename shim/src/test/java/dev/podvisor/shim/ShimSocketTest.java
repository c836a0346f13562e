package dev.podvisor.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link ShimSocket} within one JVM: the daemon's fallback bind and the lookup of a channel's fd. */
class ShimSocketTest {

    @TempDir
    Path dir;

    @Test
    void withoutAListenerOnStdinTheDaemonBindsItselfReplacingAStaleSocket() throws Exception {
        Path socket = dir.resolve("s/shim.sock");
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket)); // closed below without removing its file: stale
        }
        assertTrue(Files.exists(socket));
        try (ServerSocketChannel listener = ShimSocket.take(socket)) {
            assertTrue(ShimSocket.inherited(socket).isEmpty(), "surefire's stdin is no listener");
            assertTrue(StartCommand.connectable(socket));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            int fd = ShimSocket.fdOf(socket);
            assertTrue(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString().startsWith("socket:["));
        }
    }

    @Test
    void aSocketNobodyHereHoldsHasNoFd() throws Exception {
        Path socket = dir.resolve("nobody.sock");
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> ShimSocket.fdOf(socket));
        assertTrue(none.getMessage().startsWith("no fd of this process is the socket bound to " + socket), none.getMessage());
    }
}
