package dev.podvisor.sandbox;

import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.storage.linux.LinuxException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Copies one guest process's stdio between containerd's FIFOs on the host and the agent's stream calls, as
 * Kata's shim does: stdout/stderr by long-polling {@code ReadStdout}/{@code ReadStderr} until the agent
 * reports the stream finished (an OK answer with no data, as kata-agents from 3.27.0 answer and Kata's Go shim
 * reads it, {@code kata_agent.go readProcessStream}; or an error, as older agents answer); stdin by
 * {@link StdinCopier}, which reads the FIFO into {@code WriteStdin} and calls {@code CloseStdin} at its end of
 * file. With a terminal the agent serves the pty on stdout and stderr is unused.
 *
 * <p>Each copier runs on its own small platform thread, not a virtual one: a FIFO read or write blocks in the
 * kernel and would pin a virtual thread's carrier (the JDK does not compensate FIFO I/O), and two pinned
 * carriers stall every RPC of the daemon. Output goes through {@link OutputFifo}, which never blocks in
 * {@code open(2)} and does not close a FIFO on bytes its client has not read yet. {@link #awaitOutput} lets
 * the exit path wait until all output reached the host before containerd hears of the exit (otherwise
 * {@code ctr run} could miss the last lines).
 */
public final class ProcessIo {

    private static final int CHUNK = 32 * 1024;

    /**
     * How long the exit path waits for a process's output to reach the host ({@link #awaitOutput}), and so
     * how long an output FIFO with unread bytes waits for a reader before it closes ({@link OutputFifo#finish}).
     */
    public static final Duration OUTPUT_WAIT = Duration.ofSeconds(10);

    private final AgentClient agent;
    private final String containerId;
    private final String execId;
    private final ProcessStdio stdio;
    private final LogfmtLog log;
    private final CountDownLatch outputDone = new CountDownLatch(2);
    private final StdinCopier stdin;
    private final AtomicBoolean guestStdinClosed = new AtomicBoolean();

    public ProcessIo(AgentClient agent, String containerId, String execId, ProcessStdio stdio, LogfmtLog log) {
        this.agent = agent;
        this.containerId = containerId;
        this.execId = execId;
        this.stdio = stdio;
        this.log = log;
        this.stdin = stdio.stdin().isEmpty() ? null
                : new StdinCopier(agent, containerId, execId, Path.of(stdio.stdin()), log);
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
        if (stdin != null) {
            stdin.start("stdin-" + name);
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
     * containerd's {@code CloseIO(stdin)}: the guest process's stdin closes once the client closed its end of
     * the FIFO and everything it wrote was forwarded ({@link StdinCopier}); at once when the process has no
     * stdin FIFO. Returns without waiting; idempotent.
     */
    public void closeStdin() {
        if (stdin != null) {
            stdin.requestClose();
        } else if (guestStdinClosed.compareAndSet(false, true)) {
            StdinCopier.closeGuestStdin(agent, containerId, execId, log);
        }
    }

    /** For tests: waits until the stdin copy ended (true at once without a stdin FIFO), at most {@code timeout}. */
    boolean awaitStdin(Duration timeout) throws InterruptedException {
        return stdin == null || stdin.await(timeout);
    }

    /** Stops all copying (the process is gone). */
    public void close() {
        if (stdin != null) {
            stdin.stop();
        }
    }

    private void copyOut(String fifo, boolean stdout) {
        OutputFifo out = null;
        try {
            if (!fifo.isEmpty()) {
                out = OutputFifo.open(fifo);
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
                    out.write(data);
                }
            }
        } catch (LinuxException e) {
            log.warn("copying output failed", "container", containerId, "exec", execId, "fifo", fifo,
                    "error", e.getMessage());
        } finally {
            if (out != null) {
                out.finish(OUTPUT_WAIT);
            }
            outputDone.countDown();
        }
    }
}
