package dev.podvisor.testbed.guest;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.WaitStatus;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * One process of a container (its init, exec id {@code ""}, or an exec): host pid, stdio and exit status.
 * Without a tty, stdout and stderr are separate pipes pumped into {@link StreamBuffer}s and stdin is a pipe
 * this class writes; with a tty, the pty master runc handed over on the console socket serves all three.
 * A platform thread reaps the pid ({@code waitpid}: the emulator is a child subreaper, so the process is
 * its child once runc has exited).
 */
final class GuestProcess {

    private final String containerId;
    private final String execId;
    private final boolean terminal;
    private final StreamBuffer stdout = new StreamBuffer();
    private final StreamBuffer stderr;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final Object stdinLock = new Object();
    private volatile int pid;
    /** stdin pipe write end, or the pty master; -1 once closed. */
    private int stdinFd = -1;
    /** The pty master (tty only), -1 otherwise or once closed. */
    private volatile int masterFd = -1;

    GuestProcess(String containerId, String execId, boolean terminal) {
        this.containerId = containerId;
        this.execId = execId;
        this.terminal = terminal;
        this.stderr = terminal ? stdout : new StreamBuffer();
    }

    String containerId() {
        return containerId;
    }

    String execId() {
        return execId;
    }

    boolean terminal() {
        return terminal;
    }

    int pid() {
        return pid;
    }

    StreamBuffer stdout() {
        return stdout;
    }

    StreamBuffer stderr() {
        return stderr;
    }

    /** Starts the pumps of a non-tty process: {@code outFd}/{@code errFd} are read, {@code inFd} written. */
    void attachPipes(int inFd, int outFd, int errFd) {
        synchronized (stdinLock) {
            stdinFd = inFd;
        }
        pump(outFd, stdout, "stdout");
        pump(errFd, stderr, "stderr");
    }

    /** Starts the pump of a tty process over its pty master {@code master}. */
    void attachTerminal(int master) {
        masterFd = master;
        synchronized (stdinLock) {
            stdinFd = master;
        }
        pump(master, stdout, "tty");
    }

    private void pump(int fd, StreamBuffer buffer, String name) {
        Thread.ofPlatform().daemon().name("guest-" + name + "-" + containerId + "-" + execId).start(() -> {
            byte[] chunk = new byte[32 * 1024];
            try {
                while (true) {
                    int n = Linux.read(fd, chunk, 0, chunk.length);
                    if (n < 0) {
                        break;
                    }
                    buffer.append(chunk, n);
                }
            } catch (LinuxException | InterruptedException e) {
                // the stream ends
            } finally {
                buffer.finish();
                if (fd != masterFd) {
                    Linux.closeQuietly(fd);
                }
            }
        });
    }

    /** Records the pid and starts reaping it. */
    void started(int hostPid) {
        this.pid = hostPid;
        Thread.ofPlatform().daemon().name("guest-reap-" + containerId + "-" + execId).start(() -> {
            int status;
            try {
                WaitStatus ws = Linux.waitpid(hostPid, 0);
                status = Linux.exitStatus(ws);
            } catch (RuntimeException e) {
                status = 255; // not our child (should not happen): report an abnormal end
            }
            exited(status);
        });
    }

    /** Completes the exit status (idempotent) and closes stdin; a tty master closes once drained. */
    void exited(int status) {
        if (exit.complete(status)) {
            closeStdin();
        }
    }

    boolean hasExited() {
        return exit.isDone();
    }

    /** Blocks until the process has exited; the kata exit status (128 + signal for a signal). */
    int awaitExit() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Writes {@code data} to the process's stdin.
     *
     * @return the number of bytes written
     * @throws IllegalStateException when stdin was closed
     */
    int writeStdin(byte[] data) {
        synchronized (stdinLock) {
            if (stdinFd < 0) {
                throw new IllegalStateException("stdin of process " + containerId + "/" + execId + " is closed");
            }
            Linux.writeFully(stdinFd, data, 0, data.length);
            return data.length;
        }
    }

    /** Closes stdin: the pipe's write end, or for a tty sends EOF (^D) and keeps the master for output. */
    void closeStdin() {
        synchronized (stdinLock) {
            if (stdinFd < 0) {
                return;
            }
            if (terminal) {
                if (!hasExited()) {
                    try {
                        Linux.writeFully(stdinFd, new byte[] {4}, 0, 1);
                    } catch (LinuxException ignored) {
                        // terminal already gone
                    }
                }
            } else {
                Linux.closeQuietly(stdinFd);
            }
            stdinFd = -1;
        }
    }

    /** {@code TtyWinResize}: sets the pty's window size. */
    void resize(int rows, int columns) {
        int master = masterFd;
        if (!terminal || master < 0) {
            throw new IllegalStateException("process " + containerId + "/" + execId + " has no terminal");
        }
        Linux.setWindowSize(master, rows, columns);
    }

    /** Sends {@code signal} to the process; a process that has already exited is left alone. */
    void signal(int signal) {
        if (hasExited() || pid <= 0) {
            return;
        }
        try {
            Linux.kill(pid, signal);
        } catch (LinuxException e) {
            if (e.errno() != Linux.ESRCH) {
                throw e;
            }
        }
    }

    /** Shutdown: ends both streams at once and releases the pty master. */
    void abort() {
        stdout.abort();
        stderr.abort();
        closeStdin();
        int master = masterFd;
        masterFd = -1;
        if (master >= 0) {
            Linux.closeQuietly(master);
        }
    }
}
