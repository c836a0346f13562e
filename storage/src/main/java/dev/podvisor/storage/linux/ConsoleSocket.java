package dev.podvisor.storage.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The listening end of {@code runc create --console-socket <path>}: runc (and other OCI runtimes) connect
 * to it, send one message whose {@code SCM_RIGHTS} control data carries the pty master fd of the
 * container's terminal and whose payload is the terminal's name, and close the connection.
 *
 * <p>Made with {@link UnixSockets} (FFM), since the JDK's unix-domain channels cannot receive file
 * descriptors. Thread-safe: {@link #close} may be called from another thread while {@link #receiveFd}
 * waits; the wait then ends within 200 ms.
 */
public final class ConsoleSocket implements AutoCloseable {

    private static final long SLICE_MS = 200;

    private final Path path;
    private final Object lock = new Object();
    private int fd;
    private boolean receiving;
    private boolean closed;

    /**
     * What one sender sent.
     *
     * @param fd   the received file descriptor (close-on-exec), owned by the caller
     * @param name the message payload: runc sends the terminal's name (e.g. {@code /dev/pts/3}); may be empty
     */
    public record Received(int fd, String name) {
    }

    private ConsoleSocket(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /**
     * Creates the socket file {@code path} and listens on it (backlog 1).
     *
     * <p>Leaves behind: the socket file and an fd, both removed by {@link #close}.
     *
     * @throws IllegalArgumentException when {@code path} is longer than 107 bytes
     * @throws LinuxException e.g. {@code bind(/x/console.sock): EADDRINUSE} when the file exists
     */
    public static ConsoleSocket listen(Path path) {
        return new ConsoleSocket(path, UnixSockets.listen(path, 1));
    }

    /** The socket file. */
    public Path path() {
        return path;
    }

    /**
     * Accepts one connection, receives one message and returns the first fd it carried ({@code SCM_RIGHTS});
     * further fds in the message are closed.
     *
     * @param timeout how long to wait for the sender, in total
     * @return the received fd (close-on-exec), owned by the caller
     * @throws LinuxException {@code ETIMEDOUT} when nothing arrived in time, {@code EPROTO} when the message
     *                        carried no fd, {@code EBADF} when the socket was closed
     */
    public int receiveFd(Duration timeout) {
        return receive(timeout).fd();
    }

    /** Like {@link #receiveFd}, also returning the payload (the terminal name runc sends). */
    public Received receive(Duration timeout) {
        int listenFd;
        synchronized (lock) {
            if (closed) {
                throw new LinuxException("accept", path + ": console socket closed", Linux.EBADF);
            }
            if (receiving) {
                throw new IllegalStateException("console socket " + path + ": already receiving");
            }
            receiving = true;
            listenFd = fd;
        }
        try {
            long deadline = System.nanoTime() + timeout.toNanos();
            awaitReadable(listenFd, deadline, "accept");
            int conn = UnixSockets.accept(listenFd);
            try {
                awaitReadable(conn, deadline, "recvmsg");
                return receiveOne(conn);
            } finally {
                Linux.closeQuietly(conn);
            }
        } finally {
            synchronized (lock) {
                receiving = false;
                if (closed) {
                    closeFd();
                }
            }
        }
    }

    private Received receiveOne(int conn) {
        byte[] payload = new byte[4096];
        List<Integer> fds = new ArrayList<>();
        int n = UnixSockets.receiveWithFds(conn, payload, 0, payload.length, fds);
        if (fds.isEmpty()) {
            throw new LinuxException("recvmsg", path + ": message without SCM_RIGHTS fd", Linux.EPROTO);
        }
        fds.subList(1, fds.size()).forEach(Linux::closeQuietly);
        int end = 0;
        while (end < n && payload[end] != 0) {
            end++;
        }
        return new Received(fds.get(0), new String(payload, 0, end, StandardCharsets.UTF_8));
    }

    /** Polls {@code pollFd} for input in slices, so that {@link #close} from another thread is noticed. */
    private void awaitReadable(int pollFd, long deadline, String call) {
        while (true) {
            synchronized (lock) {
                if (closed) {
                    throw new LinuxException(call, path + ": console socket closed", Linux.EBADF);
                }
            }
            long leftMs = Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000);
            if (leftMs == 0) {
                throw new LinuxException(call, path + ": nothing received in time", Linux.ETIMEDOUT);
            }
            if (UnixSockets.poll(pollFd, UnixSockets.POLLIN, (int) Math.min(leftMs, SLICE_MS)) != 0) {
                return;
            }
        }
    }

    /** Closes the socket and removes the socket file. Idempotent. */
    @Override
    public void close() {
        synchronized (lock) {
            if (!closed) {
                closed = true;
                if (!receiving) {
                    closeFd();
                }
            }
        }
        deleteSocketFile(path);
    }

    private void closeFd() {
        if (fd >= 0) {
            Linux.closeQuietly(fd);
            fd = -1;
        }
    }

    private static void deleteSocketFile(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException("console socket: remove " + path + ": " + e.getMessage(), e);
        }
    }
}
