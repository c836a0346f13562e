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

/** {@link ShimSocket#bind}: a stale socket file is replaced, a live one is not taken over. */
class ShimSocketTest {

    @TempDir
    Path dir;

    @Test
    void bindReplacesAStaleSocketAndListensOwnerOnly() throws Exception {
        Path socket = dir.resolve("s/shim.sock");
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(socket)); // closed below without removing its file: stale
        }
        assertTrue(Files.exists(socket));
        try (ServerSocketChannel listener = ShimSocket.bind(socket)) {
            assertTrue(StartCommand.connectable(socket));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        }
    }

    @Test
    void bindRefusesASocketSomeoneListensOnNamingIt() throws Exception {
        Path socket = dir.resolve("live.sock");
        try (ServerSocketChannel live = ShimSocket.bind(socket)) {
            java.io.UncheckedIOException taken = assertThrows(java.io.UncheckedIOException.class, () -> ShimSocket.bind(socket));
            assertTrue(taken.getMessage().startsWith("listening on " + socket + ": "), taken.getMessage());
            assertTrue(StartCommand.connectable(socket), "the live listener is left alone");
        }
    }
}
