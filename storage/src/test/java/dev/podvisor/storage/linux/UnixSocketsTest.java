package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link UnixSockets}: a connected pair made with listen/connect/accept, fds sent and received. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class UnixSocketsTest {

    @TempDir
    Path dir;

    private Path socketPath;
    private int listener = -1;
    private int client = -1;
    private int server = -1;
    private final List<Integer> received = new ArrayList<>();

    @BeforeEach
    void connect() {
        socketPath = dir.resolve("test.sock");
        listener = UnixSockets.listen(socketPath, 4);
        client = UnixSockets.connect(socketPath);
        server = UnixSockets.accept(listener);
    }

    @AfterEach
    void closeAll() {
        received.forEach(Linux::closeQuietly);
        Linux.closeQuietly(server);
        Linux.closeQuietly(client);
        Linux.closeQuietly(listener);
    }

    private static String target(int fd) throws Exception {
        return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
    }

    private static boolean closeOnExec(int fd) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return (Integer.parseInt(line.substring(6).trim(), 8) & Linux.O_CLOEXEC) != 0;
            }
        }
        throw new AssertionError("no flags in fdinfo of " + fd);
    }

    @Test
    void theFdsArriveWithTheFirstByteOfTheMessage() throws Exception {
        Path a = Files.writeString(dir.resolve("a"), "a");
        Path b = Files.writeString(dir.resolve("b"), "b");
        int fa = Linux.open(a.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        int fb = Linux.open(b.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        try {
            UnixSockets.sendWithFds(client, "PUT /x".getBytes(StandardCharsets.US_ASCII), new int[] {fa, fb});
            UnixSockets.sendWithFds(client, "second".getBytes(StandardCharsets.US_ASCII), new int[0]);
        } finally {
            Linux.close(fa);
            Linux.close(fb);
        }
        byte[] buf = new byte[64];
        assertEquals(1, UnixSockets.receiveWithFds(server, buf, 0, 1, received));
        assertEquals('P', buf[0]);
        assertEquals(2, received.size());
        assertEquals(a.toString(), target(received.get(0)));
        assertEquals(b.toString(), target(received.get(1)));
        assertTrue(closeOnExec(received.get(0)), "MSG_CMSG_CLOEXEC");
        int n = UnixSockets.receiveWithFds(server, buf, 1, 63, received);
        assertEquals("PUT /xsecond", new String(buf, 0, 1 + n, StandardCharsets.US_ASCII));
        assertEquals(2, received.size(), "the second message carried no fd");
    }

    @Test
    void aLargeMessageArrivesWholeWithItsFdOnce() throws Exception {
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        int fd = Linux.open(dir.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
            try {
                UnixSockets.sendWithFds(client, data, new int[] {fd});
            } finally {
                Linux.close(fd);
                Linux.close(client);
                client = -1;
            }
        });
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[65536];
        int n;
        while ((n = UnixSockets.receiveWithFds(server, buf, 0, buf.length, received)) > 0) {
            got.write(buf, 0, n);
        }
        sending.join();
        assertArrayEquals(data, got.toByteArray());
        assertEquals(1, received.size());
        assertEquals(dir.toString(), target(received.get(0)));
    }

    @Test
    void pollReportsInputAndTimesOut() {
        assertEquals(0, UnixSockets.poll(server, UnixSockets.POLLIN, 10));
        assertEquals(0, UnixSockets.poll(listener, UnixSockets.POLLIN, 0), "nobody else connects");
        UnixSockets.sendWithFds(client, new byte[] {1}, new int[0]);
        assertTrue((UnixSockets.poll(server, UnixSockets.POLLIN, 5000) & UnixSockets.POLLIN) != 0);
        Linux.close(client);
        client = -1;
        byte[] one = new byte[1];
        assertEquals(1, UnixSockets.receiveWithFds(server, one, 0, 1, received));
        assertTrue((UnixSockets.poll(server, UnixSockets.POLLIN, 5000) & (UnixSockets.POLLIN | UnixSockets.POLLHUP)) != 0);
        assertEquals(0, UnixSockets.receiveWithFds(server, one, 0, 1, received), "end of stream");
    }

    @Test
    void badArgumentsAndMissingPeersAreNamed() {
        Path missing = dir.resolve("nobody.sock");
        LinuxException refused = assertThrows(LinuxException.class, () -> UnixSockets.connect(missing));
        assertEquals("connect(" + missing + "): ENOENT (No such file or directory)", refused.getMessage());
        LinuxException taken = assertThrows(LinuxException.class, () -> UnixSockets.listen(socketPath, 1));
        assertEquals(98, taken.errno(), "EADDRINUSE");
        assertTrue(Files.exists(socketPath), "a failed bind removes nothing it did not create");
        assertThrows(IllegalArgumentException.class, () -> UnixSockets.sendWithFds(client, new byte[0], new int[0]));
        assertThrows(IllegalArgumentException.class,
                () -> UnixSockets.sendWithFds(client, new byte[1], new int[UnixSockets.MAX_FDS + 1]));
        LinuxException badFd = assertThrows(LinuxException.class,
                () -> UnixSockets.sendWithFds(client, new byte[1], new int[] {987654}));
        assertEquals(Linux.EBADF, badFd.errno());
        assertTrue(badFd.getMessage().startsWith("sendmsg(fd " + client + ", 1 fds)"), badFd.getMessage());
        assertFalse(Files.exists(missing));
    }
}
