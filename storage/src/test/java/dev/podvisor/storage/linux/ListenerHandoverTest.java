package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kernel behaviour the shim's {@code start} relies on when it hands its listening socket to the daemon
 * through {@link Linux#dup2} (docs/decisions/0005): a client connects as soon as the socket listens, its
 * connection waits in the backlog until a holder of a copy accepts it, and when every holder is gone without
 * accepting, the client reads end-of-stream or a reset at once, never waits.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ListenerHandoverTest {

    @TempDir
    Path dir;

    @Test
    void aConnectionQueuedBeforeTheHandoverIsAcceptedThroughTheCopy() throws Exception {
        Path socket = dir.resolve("shim.sock");
        int original = UnixSockets.listen(socket, 16);
        int spare = Linux.open("/dev/null", Linux.O_RDONLY);
        try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(socket));
            Dup2.dup2(original, spare);
            Linux.close(original);
            int server = UnixSockets.accept(spare);
            try {
                client.write(ByteBuffer.wrap(new byte[] {42}));
                byte[] buf = new byte[1];
                assertEquals(1, Linux.read(server, buf, 0, 1));
                assertEquals(42, buf[0]);
            } finally {
                Linux.close(server);
            }
        } finally {
            Linux.closeQuietly(spare);
        }
    }

    @Test
    void aQueuedClientSeesTheEndAtOnceWhenEveryHolderClosesWithoutAccepting() throws Exception {
        Path socket = dir.resolve("shim.sock");
        int original = UnixSockets.listen(socket, 16);
        int copy = Linux.dup(original);
        try (SocketChannel client = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            client.connect(UnixDomainSocketAddress.of(socket));
            client.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            Linux.close(original);
            Linux.close(copy);
            int read;
            try {
                read = client.read(ByteBuffer.allocate(8));
            } catch (IOException reset) {
                read = -1; // ECONNRESET: as good as end-of-stream for a client
            }
            assertEquals(-1, read);
        }
        assertTrue(socket.toFile().exists(), "the socket file stays until someone removes it");
    }
}
