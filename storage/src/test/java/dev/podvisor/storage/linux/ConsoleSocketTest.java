package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link ConsoleSocket}, fed by {@link UnixSockets#sendWithFds} (one message with a name and SCM_RIGHTS fds, as runc sends). */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConsoleSocketTest {

    @TempDir
    Path dir;

    /** What runc's {@code utils.SendFile} does: connect, one message with the name and an SCM_RIGHTS fd. */
    static void send(Path socket, String name, int... fds) {
        int fd = UnixSockets.connect(socket);
        try {
            byte[] payload = name.getBytes(StandardCharsets.UTF_8);
            UnixSockets.sendWithFds(fd, payload.length == 0 ? new byte[1] : payload, fds);
        } finally {
            Linux.close(fd);
        }
    }

    @Test
    void receivesTheFdAndNameRuncSends() throws Exception {
        Path path = dir.resolve("console.sock");
        Pty pty = Linux.openPty();
        int received = -1;
        try (ConsoleSocket socket = ConsoleSocket.listen(path)) {
            assertTrue(Files.exists(path));
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> send(path, pty.slavePath(), pty.masterFd()));
            ConsoleSocket.Received r = socket.receive(Duration.ofSeconds(10));
            sender.join();
            received = r.fd();
            assertEquals(pty.slavePath(), r.name());
            assertTrue(received != pty.masterFd());
            // the received fd is the same pty master: a size set through it shows on the original
            Linux.setWindowSize(received, 24, 100);
            assertEquals(new WindowSize(24, 100), Linux.getWindowSize(pty.masterFd()));
        } finally {
            Linux.closeQuietly(received);
            Linux.close(pty.masterFd());
        }
        assertFalse(Files.exists(path), "close removes the socket file");
    }

    @Test
    void receiveFdOfAFile() throws Exception {
        Path path = dir.resolve("c.sock");
        Path file = Files.writeString(dir.resolve("file"), "content");
        int fd = Linux.open(file.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        try (ConsoleSocket socket = ConsoleSocket.listen(path)) {
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> send(path, "", fd));
            int got = socket.receiveFd(Duration.ofSeconds(10));
            sender.join();
            try {
                byte[] buf = new byte[32];
                int n = Linux.read(got, buf, 0, buf.length);
                assertEquals("content", new String(buf, 0, n, StandardCharsets.UTF_8));
            } finally {
                Linux.close(got);
            }
        } finally {
            Linux.close(fd);
        }
    }

    @Test
    void messageWithoutFdIsAProtocolError() {
        Path path = dir.resolve("nofd.sock");
        try (ConsoleSocket socket = ConsoleSocket.listen(path)) {
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> send(path, "/dev/pts/0"));
            LinuxException e = assertThrows(LinuxException.class, () -> socket.receiveFd(Duration.ofSeconds(10)));
            sender.join();
            assertEquals(Linux.EPROTO, e.errno());
            assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
        }
    }

    @Test
    void timesOutWhenNobodyConnects() {
        Path path = dir.resolve("idle.sock");
        try (ConsoleSocket socket = ConsoleSocket.listen(path)) {
            LinuxException e = assertThrows(LinuxException.class, () -> socket.receiveFd(Duration.ofMillis(50)));
            assertEquals(Linux.ETIMEDOUT, e.errno());
            assertTrue(e.getMessage().startsWith("accept(" + path), e.getMessage());
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void closeFromAnotherThreadEndsTheWait() throws Exception {
        Path path = dir.resolve("closing.sock");
        ConsoleSocket socket = ConsoleSocket.listen(path);
        CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> socket.receiveFd(Duration.ofSeconds(20)));
        socket.close();
        Exception e = assertThrows(Exception.class, waiting::join);
        LinuxException cause = (LinuxException) e.getCause();
        assertEquals(Linux.EBADF, cause.errno());
        assertFalse(Files.exists(path));
    }

    @Test
    void rejectsTakenAndOverlongPaths() throws Exception {
        Path taken = Files.writeString(dir.resolve("taken"), "");
        LinuxException e = assertThrows(LinuxException.class, () -> ConsoleSocket.listen(taken));
        assertEquals("bind(" + taken + "): EADDRINUSE (Address already in use)", e.getMessage());
        Path tooLong = dir.resolve("x".repeat(120));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> ConsoleSocket.listen(tooLong));
        assertTrue(bad.getMessage().contains("longer than 107 bytes"), bad.getMessage());
    }
}
