package dev.podvisor.sandbox;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The shim's end of one of containerd's stdout or stderr FIFOs (or of a plain file a test names).
 *
 * <p>It is opened read-write ({@code O_RDWR}), which never blocks in {@code open(2)}, whether or not the client
 * has opened its reading end yet, and it takes writes while the client is away. The cost is at the end: when
 * the shim closes the last descriptor of a FIFO, whatever nobody has read yet is thrown away. A client opens
 * its end asynchronously ({@code containerd/fifo}), and {@code ctr task exec … echo} can finish before that
 * open happened, and lose its whole output (issue 12, seen in {@code ConcurrentStartIT}). So {@link #finish}
 * checks for unread bytes; if there are any, it holds a write-only descriptor and waits until a reader has the
 * FIFO open, at most {@code readerWait}, before it closes. A client that went away for good (a {@code ctr run -d}
 * that exited) costs that wait once, at the process's end.
 *
 * <p>Not thread-safe: one copier thread owns it. Blocking calls: run it on a platform thread.
 */
final class OutputFifo {

    private int fd;

    private OutputFifo(int fd) {
        this.fd = fd;
    }

    /**
     * Opens {@code path} read-write.
     *
     * @throws LinuxException e.g. {@code ENOENT} when the FIFO is gone
     */
    static OutputFifo open(String path) {
        return new OutputFifo(Linux.open(path, Linux.O_RDWR | Linux.O_CLOEXEC));
    }

    /**
     * Writes all of {@code data}; blocks while the FIFO is full.
     *
     * @throws LinuxException e.g. {@code EBADF} after {@link #finish}
     */
    void write(byte[] data) {
        Linux.writeFully(fd, data, 0, data.length);
    }

    /**
     * Closes the FIFO once what was written can still reach a reader: at once when nothing is unread, else once
     * a reader has it open, or after {@code readerWait} without one (then the unread bytes are lost: nobody is
     * there to read them). Idempotent.
     */
    void finish(Duration readerWait) {
        if (fd < 0) {
            return;
        }
        int unread;
        try {
            unread = Linux.pendingBytes(fd);
        } catch (LinuxException e) {
            unread = 0;
        }
        if (unread == 0) {
            closeFd();
            return;
        }
        // a write-only descriptor keeps the bytes in the pipe, and unlike ours is no reader itself; opening it
        // does not block because ours is still open
        int writer;
        try {
            writer = Linux.open("/proc/self/fd/" + fd, Linux.O_WRONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC);
        } catch (LinuxException e) {
            closeFd();
            return;
        }
        closeFd();
        try {
            awaitReader("/proc/self/fd/" + writer, readerWait);
        } finally {
            Linux.closeQuietly(writer);
        }
    }

    /**
     * Blocks in {@code open(O_WRONLY)}, which returns once the FIFO has a reader; a timer opens a reader itself
     * after {@code readerWait} to end the wait. Both open {@code fifo}, the {@code /proc/self/fd} link of the
     * write-only descriptor, so they reach the same FIFO even if containerd removed its path meanwhile.
     */
    private static void awaitReader(String fifo, Duration readerWait) {
        CountDownLatch readerCame = new CountDownLatch(1);
        Object lock = new Object();
        boolean[] waiting = {true};
        Thread.ofVirtual().name("fifo-reader-wait").start(() -> {
            try {
                if (readerCame.await(readerWait.toMillis(), TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            synchronized (lock) {
                // only while the open below still waits: after it, the descriptor number may name another file
                if (waiting[0]) {
                    try {
                        Linux.closeQuietly(Linux.open(fifo, Linux.O_RDONLY | Linux.O_NONBLOCK | Linux.O_CLOEXEC));
                    } catch (LinuxException e) {
                        // nothing to end
                    }
                }
            }
        });
        try {
            Linux.closeQuietly(Linux.open(fifo, Linux.O_WRONLY | Linux.O_CLOEXEC));
        } catch (LinuxException e) {
            // cannot wait on it: close without a reader
        } finally {
            synchronized (lock) {
                waiting[0] = false;
            }
            readerCame.countDown();
        }
    }

    private void closeFd() {
        Linux.closeQuietly(fd);
        fd = -1;
    }
}
