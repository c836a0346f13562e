package dev.podvisor.sandbox;

import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Copies one guest process's stdio between containerd's FIFOs on the host and the agent's stream calls, as
 * Kata's shim does: stdout/stderr by long-polling {@code ReadStdout}/{@code ReadStderr} until the agent
 * reports the stream finished (an OK answer with no data, as kata-agents from 3.27.0 answer and Kata's Go shim
 * reads it, {@code kata_agent.go readProcessStream}; or an error, as older agents answer); stdin by reading the FIFO and calling {@code WriteStdin}, then
 * {@code CloseStdin} at end of file. With a terminal the agent serves the pty on stdout and stderr is unused.
 *
 * <p>Each copier runs on its own small platform thread, not a virtual one: a FIFO read or write blocks in the
 * kernel and would pin a virtual thread's carrier (the JDK does not compensate FIFO I/O), and two pinned
 * carriers stall every RPC of the daemon. FIFOs are opened read-write ({@code O_RDWR}): opening one
 * end-only blocks in {@code open(2)} until the other side shows up, which may be never ({@code ctr run -d}
 * has no stdin writer), and a virtual thread blocked in {@code open(2)} pins its carrier — two of those stall
 * the whole daemon. {@link FileChannel} is used so that closing one wakes a blocked read. {@link #awaitOutput} lets the exit path wait until all output reached the host before
 * containerd hears of the exit (otherwise {@code ctr run} could miss the last lines).
 */
public final class ProcessIo {

    private static final int CHUNK = 32 * 1024;

    private final AgentClient agent;
    private final String containerId;
    private final String execId;
    private final ProcessStdio stdio;
    private final LogfmtLog log;
    private final CountDownLatch outputDone = new CountDownLatch(2);
    private final CountDownLatch stdinDone = new CountDownLatch(1);
    private volatile FileChannel stdinChannel;
    private volatile boolean stdinClosed;

    public ProcessIo(AgentClient agent, String containerId, String execId, ProcessStdio stdio, LogfmtLog log) {
        this.agent = agent;
        this.containerId = containerId;
        this.execId = execId;
        this.stdio = stdio;
        this.log = log;
    }

    /** Starts the copiers; call right after the process was started in the guest. */
    public void start() {
        String name = containerId + (execId.isEmpty() ? "" : "/" + execId);
        copier("stdout-" + name, () -> copyOut(stdio.stdout(), true));
        if (stdio.terminal() || stdio.stderr().isEmpty()) {
            drainUnused(stdio.terminal() ? null : "stderr");
        } else {
            copier("stderr-" + name, () -> copyOut(stdio.stderr(), false));
        }
        if (stdio.stdin().isEmpty()) {
            stdinDone.countDown();
        } else {
            copier("stdin-" + name, this::copyIn);
        }
    }

    private void drainUnused(String stream) {
        if (stream == null) {
            outputDone.countDown();
            return;
        }
        // stderr not attached on the host: still drain it so the guest process never blocks on a full pipe
        copier("stderr-drain", () -> copyOut("", false));
    }

    private static void copier(String name, Runnable body) {
        Thread.ofPlatform().name(name).daemon().stackSize(256 * 1024).start(body);
    }

    /**
     * Waits until stdout and stderr were copied to the end (the guest closed them), at most {@code timeout}.
     *
     * @return whether all output was copied in time
     */
    public boolean awaitOutput(Duration timeout) {
        try {
            return outputDone.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * containerd's CloseIO(stdin): stop forwarding and close the guest process's stdin once what was already
     * read from the FIFO has been written. Idempotent.
     */
    public void closeStdin() {
        stdinClosed = true;
        FileChannel channel = stdinChannel;
        if (channel != null) {
            closeQuietly(channel);
        }
        try {
            stdinDone.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeGuestStdin();
    }

    /** Stops all copying (the process is gone). */
    public void close() {
        stdinClosed = true;
        FileChannel channel = stdinChannel;
        if (channel != null) {
            closeQuietly(channel);
        }
    }

    private void copyOut(String fifo, boolean stdout) {
        FileChannel out = null;
        try {
            if (!fifo.isEmpty()) {
                out = FileChannel.open(Path.of(fifo), StandardOpenOption.READ, StandardOpenOption.WRITE);
            }
            while (true) {
                byte[] data;
                try {
                    data = stdout ? agent.readStdout(containerId, execId, CHUNK)
                            : agent.readStderr(containerId, execId, CHUNK);
                } catch (TtrpcException e) {
                    if (e.code() != Code.UNAVAILABLE) {
                        log.debug("stream finished", "container", containerId, "exec", execId,
                                "stream", stdout ? "stdout" : "stderr", "reason", e.getMessage());
                    }
                    return;
                }
                if (data.length == 0) {
                    log.debug("stream finished", "container", containerId, "exec", execId,
                            "stream", stdout ? "stdout" : "stderr", "reason", "eof");
                    return;
                }
                if (out != null) {
                    ByteBuffer buffer = ByteBuffer.wrap(data);
                    while (buffer.hasRemaining()) {
                        out.write(buffer);
                    }
                }
            }
        } catch (IOException e) {
            log.warn("copying output failed", "container", containerId, "exec", execId, "fifo", fifo,
                    "error", e.getMessage());
        } finally {
            if (out != null) {
                closeQuietly(out);
            }
            outputDone.countDown();
        }
    }

    private void copyIn() {
        try (FileChannel in = FileChannel.open(Path.of(stdio.stdin()), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            stdinChannel = in;
            ByteBuffer buffer = ByteBuffer.allocate(CHUNK);
            while (!stdinClosed) {
                buffer.clear();
                int n = in.read(buffer);
                if (n < 0) {
                    break;
                }
                int offset = 0;
                while (offset < n) {
                    offset += (int) agent.writeStdin(containerId, execId,
                            java.util.Arrays.copyOfRange(buffer.array(), offset, n), n - offset);
                }
            }
        } catch (IOException | TtrpcException e) {
            if (!stdinClosed) {
                log.debug("stdin copy ended", "container", containerId, "exec", execId, "reason", e.getMessage());
            }
        } finally {
            stdinDone.countDown();
            closeGuestStdin();
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean guestStdinClosed = new java.util.concurrent.atomic.AtomicBoolean();

    private void closeGuestStdin() {
        if (guestStdinClosed.compareAndSet(false, true)) {
            try {
                agent.closeStdin(containerId, execId);
            } catch (TtrpcException e) {
                log.debug("CloseStdin failed", "container", containerId, "exec", execId, "error", e.getMessage());
            }
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a FIFO end cannot lose data we still need
        }
    }
}
