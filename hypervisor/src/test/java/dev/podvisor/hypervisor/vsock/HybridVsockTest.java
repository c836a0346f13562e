package dev.podvisor.hypervisor.vsock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HybridVsockTest {
    @TempDir
    Path dir;

    /**
     * A stand-in for Cloud Hypervisor's hybrid vsock socket: for the n-th connection (from 1) it reads the
     * CONNECT line and writes what {@code answer} gives (null = close without answering), then keeps the
     * connection open until closed.
     */
    private static final class FakeMuxer implements AutoCloseable {
        final List<String> lines = new CopyOnWriteArrayList<>();
        final ServerSocketChannel server;
        final Path socket;
        final List<SocketChannel> open = new CopyOnWriteArrayList<>();

        FakeMuxer(Path socket, IntFunction<String> answer) throws IOException {
            this.socket = socket;
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(socket));
            Thread.ofVirtual().start(() -> {
                int n = 0;
                while (server.isOpen()) {
                    try {
                        SocketChannel ch = server.accept();
                        n++;
                        lines.add(readLine(ch));
                        String a = answer.apply(n);
                        if (a == null) {
                            ch.close();
                        } else {
                            ch.write(ByteBuffer.wrap(a.getBytes(StandardCharsets.US_ASCII)));
                            open.add(ch);
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        private static String readLine(SocketChannel ch) throws IOException {
            var b = new ByteArrayOutputStream();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (ch.read(one) < 0) {
                    return b.toString(StandardCharsets.US_ASCII);
                }
                b.write(one.get(0));
                if (one.get(0) == '\n') {
                    return b.toString(StandardCharsets.US_ASCII);
                }
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (SocketChannel ch : open) {
                ch.close();
            }
            Files.deleteIfExists(socket);
        }
    }

    @Test
    void retriesRefusalsThenLeavesTheStreamAfterTheOkLineUnread() throws IOException {
        Path sock = dir.resolve("clh.sock");
        try (var muxer = new FakeMuxer(sock, n -> n <= 2 ? null : "OK 1073741824\nTTRPC-FRAME-BYTES");
             SocketChannel ch = HybridVsock.dial(sock, 1024, Duration.ofSeconds(20))) {
            assertNotNull(ch);
            assertTrue(ch.isBlocking());
            assertTrue(ch.isConnected());
            assertEquals(List.of("CONNECT 1024\n", "CONNECT 1024\n", "CONNECT 1024\n"), muxer.lines);
            byte[] expected = "TTRPC-FRAME-BYTES".getBytes(StandardCharsets.US_ASCII);
            ByteBuffer rest = ByteBuffer.allocate(expected.length);
            while (rest.hasRemaining()) {
                assertTrue(ch.read(rest) > 0);
            }
            assertEquals("TTRPC-FRAME-BYTES", new String(rest.array(), StandardCharsets.US_ASCII));
            // the stream is usable both ways
            ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        }
    }

    @Test
    void badAnswerLineIsRetried() throws IOException {
        Path sock = dir.resolve("clh.sock");
        try (var muxer = new FakeMuxer(sock, n -> n == 1 ? "ERR no listener\n" : "OK 5\n");
             SocketChannel ch = HybridVsock.dial(sock, 1025, Duration.ofSeconds(20))) {
            assertTrue(ch.isConnected());
            assertEquals(List.of("CONNECT 1025\n", "CONNECT 1025\n"), muxer.lines);
        }
    }

    @Test
    void timeoutNamesSocketPortAndTimeout() throws IOException {
        Path sock = dir.resolve("clh.sock");
        try (var muxer = new FakeMuxer(sock, n -> null)) {
            var e = assertThrows(IOException.class, () -> HybridVsock.dial(sock, 1024, Duration.ofMillis(300)));
            assertEquals("no answer from the guest agent on hybrid vsock " + sock + " port 1024 within 300 ms",
                    e.getMessage());
            assertNotNull(e.getCause());
            // the cause is the last attempt's failure: the muxer's close, or the total deadline reached while that
            // attempt still waited for it (which of the two depends on the machine's load)
            String cause = e.getCause().getMessage();
            assertTrue(cause.startsWith("closed before answering CONNECT 1024")
                    || cause.equals("no progress while waiting for the answer line within the attempt's time"), cause);
            assertTrue(muxer.lines.size() >= 2, "it retried: " + muxer.lines.size());
        }
    }

    @Test
    void missingSocketTimesOutWithTheSameMessage() {
        Path sock = dir.resolve("absent.sock");
        var e = assertThrows(IOException.class, () -> HybridVsock.dial(sock, 1024, Duration.ofMillis(100)));
        assertEquals("no answer from the guest agent on hybrid vsock " + sock + " port 1024 within 100 ms",
                e.getMessage());
    }

    @Test
    void silentMuxerIsBoundedByTheTotalTimeout() throws IOException {
        Path sock = dir.resolve("clh.sock");
        try (var muxer = new FakeMuxer(sock, n -> "")) { // accepts, never answers
            var e = assertThrows(IOException.class, () -> HybridVsock.dial(sock, 1024, Duration.ofMillis(300)));
            assertEquals("no answer from the guest agent on hybrid vsock " + sock + " port 1024 within 300 ms",
                    e.getMessage());
            assertTrue(muxer.lines.size() >= 1);
        }
    }

    @Test
    void rejectsBadArguments() {
        Path sock = dir.resolve("clh.sock");
        assertEquals("hybrid vsock port -1: must not be negative", assertThrows(IllegalArgumentException.class,
                () -> HybridVsock.dial(sock, -1, Duration.ofSeconds(1))).getMessage());
        assertEquals("hybrid vsock totalTimeout PT0S: must be positive", assertThrows(IllegalArgumentException.class,
                () -> HybridVsock.dial(sock, 1, Duration.ZERO)).getMessage());
    }
}
