package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.podvisor.storage.linux.Linux;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OutputFifo} closes at once when nothing is unread, waits for a reader when bytes are, and gives up
 * after its bound when no reader comes; it leaves no descriptor behind.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class OutputFifoTest {

    @TempDir
    Path dir;

    private Path fifo() throws IOException, InterruptedException {
        Path fifo = dir.resolve("out");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        return fifo;
    }

    /** How many of this JVM's descriptors are open on {@code fifo}. */
    private static long descriptorsOn(Path fifo) throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).equals(fifo);
                } catch (IOException gone) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void nothingUnreadClosesWithoutWaitingForAReader() throws Exception {
        Path fifo = fifo();
        OutputFifo out = OutputFifo.open(fifo.toString());
        assertEquals(1, descriptorsOn(fifo));
        out.finish(Duration.ofDays(1));
        assertEquals(0, descriptorsOn(fifo), "descriptors left open on the FIFO");
    }

    @Test
    void unreadBytesWithoutAReaderAreGivenUpAfterTheBound() throws Exception {
        Path fifo = fifo();
        OutputFifo out = OutputFifo.open(fifo.toString());
        out.write("nobody reads this\n".getBytes(StandardCharsets.UTF_8));
        out.finish(Duration.ofMillis(50));
        assertEquals(0, descriptorsOn(fifo), "descriptors left open on the FIFO");
        // with no descriptor left the kernel dropped the pipe and its bytes: a new reader finds it empty
        int reader = Linux.open(fifo.toString(), Linux.O_RDONLY | Linux.O_NONBLOCK);
        try {
            assertEquals(0, Linux.pendingBytes(reader));
        } finally {
            Linux.close(reader);
        }
    }

    @Test
    void aReaderThatOpensAfterTheEndStillGetsEverything() throws Exception {
        Path fifo = fifo();
        OutputFifo out = OutputFifo.open(fifo.toString());
        byte[] text = "written before the client opened its end\n".getBytes(StandardCharsets.UTF_8);
        out.write(text);
        Thread finisher = Thread.ofPlatform().start(() -> out.finish(Duration.ofMinutes(5)));
        // containerd/fifo opens the reading end only now: blocking, it returns as the shim still holds a writer
        try (FileChannel reader = FileChannel.open(fifo, StandardOpenOption.READ)) {
            ByteBuffer all = ByteBuffer.allocate(4096);
            while (reader.read(all) >= 0) {
                // until end of file: the shim closed its end once this reader was there
            }
            assertArrayEquals(text, java.util.Arrays.copyOf(all.array(), all.position()));
        }
        finisher.join();
    }
}
