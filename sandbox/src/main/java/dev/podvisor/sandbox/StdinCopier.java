package dev.podvisor.sandbox;

import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Copies containerd's stdin FIFO of one guest process into the agent's {@code WriteStdin}, then calls
 * {@code CloseStdin} once the FIFO reached end of file.
 *
 * <p>End of file is what ends the copy, never containerd's {@code CloseIO} alone, so nothing a client wrote
 * is lost: {@code ctr} and nerdctl write the last bytes into the FIFO and then call {@code CloseIO(stdin)}
 * before closing their end ({@code StdinCloser} in containerd's {@code cmd/ctr/commands/tasks}), so those
 * bytes may still sit in the pipe when the call arrives. As containerd's runc shim does
 * ({@code pkg/process/init.go openStdin}), the copier holds a writer of its own on the FIFO, which keeps a
 * reader from seeing end of file while the client has not opened its end yet or reopens it; {@code CloseIO}
 * drops that writer, and the reader sees end of file after the client closed its end, with everything before
 * it read.
 *
 * <p>Runs on its own small platform thread (a FIFO read blocks in the kernel and would pin a virtual
 * thread's carrier). The writer is opened read-write ({@code O_RDWR}), which never blocks in {@code open(2)};
 * with it in place the read-only end opens at once. {@link FileChannel} is used so that {@link #stop} wakes a
 * blocked read.
 */
final class StdinCopier {

    private static final int CHUNK = 32 * 1024;

    private final AgentClient agent;
    private final String containerId;
    private final String execId;
    private final Path fifo;
    private final LogfmtLog log;
    private final CountDownLatch done = new CountDownLatch(1);
    private final Object lock = new Object();
    private FileChannel keepAlive;
    private FileChannel reader;
    private boolean closeRequested;
    private boolean stopped;

    /**
     * @param fifo containerd's stdin FIFO of the process (the Task API's {@code stdin} path)
     */
    StdinCopier(AgentClient agent, String containerId, String execId, Path fifo, LogfmtLog log) {
        this.agent = agent;
        this.containerId = containerId;
        this.execId = execId;
        this.fifo = fifo;
        this.log = log;
    }

    /** Starts copying on a platform thread named {@code name}. */
    void start(String name) {
        Thread.ofPlatform().name(name).daemon().stackSize(256 * 1024).start(this::copy);
    }

    /**
     * containerd's {@code CloseIO(stdin)}: drops the copier's own writer, so the copy ends, and the guest's stdin
     * closes, once the client closed its end and the FIFO is drained. Returns at once; idempotent.
     */
    void requestClose() {
        synchronized (lock) {
            closeRequested = true;
            closeQuietly(keepAlive);
        }
    }

    /** The process is gone: stops copying at once, without {@code CloseStdin}. Idempotent. */
    void stop() {
        synchronized (lock) {
            stopped = true;
            closeQuietly(reader);
            closeQuietly(keepAlive);
        }
    }

    /**
     * Waits until the copy ended, at most {@code timeout}.
     *
     * @return whether it ended in time
     */
    boolean await(Duration timeout) throws InterruptedException {
        return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void copy() {
        boolean endOfFile = false;
        try {
            FileChannel in = open();
            if (in == null) {
                return;
            }
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            while (true) {
                buffer.clear();
                int n = in.read(buffer);
                if (n < 0) {
                    endOfFile = true;
                    break;
                }
                int offset = 0;
                while (offset < n) {
                    offset += (int) agent.writeStdin(containerId, execId,
                            Arrays.copyOfRange(buffer.array(), offset, n), n - offset);
                }
            }
        } catch (IOException | TtrpcException e) {
            if (!isStopped()) {
                log.debug("stdin copy ended", "container", containerId, "exec", execId, "reason", e.getMessage());
            }
        } finally {
            boolean stoppedFromOutside = isStopped();
            stop();
            if (endOfFile || !stoppedFromOutside) {
                closeGuestStdin(agent, containerId, execId, log);
            }
            done.countDown();
        }
    }

    /** Opens the copier's writer, then the reading end; null if already stopped. */
    private FileChannel open() throws IOException {
        synchronized (lock) {
            if (stopped) {
                return null;
            }
            keepAlive = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE);
            reader = FileChannel.open(fifo, StandardOpenOption.READ);
            if (closeRequested) {
                closeQuietly(keepAlive);
            }
            return reader;
        }
    }

    private boolean isStopped() {
        synchronized (lock) {
            return stopped;
        }
    }

    /** The agent's {@code CloseStdin} for one process; a failure (the process is gone) is only logged. */
    static void closeGuestStdin(AgentClient agent, String containerId, String execId, LogfmtLog log) {
        try {
            agent.closeStdin(containerId, execId);
        } catch (TtrpcException e) {
            log.debug("CloseStdin failed", "container", containerId, "exec", execId, "error", e.getMessage());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a FIFO end loses nothing: what was written stays in the pipe for the other reader
        }
    }
}
