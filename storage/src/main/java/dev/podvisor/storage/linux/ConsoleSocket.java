package dev.podvisor.storage.linux;

import static dev.podvisor.storage.linux.Sys.errno;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The listening end of {@code runc create --console-socket <path>}: runc (and other OCI runtimes) connect
 * to it, send one message whose {@code SCM_RIGHTS} control data carries the pty master fd of the
 * container's terminal and whose payload is the terminal's name, and close the connection.
 *
 * <p>Made with FFM {@code socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)} + {@code bind} + {@code listen}, since
 * the JDK's unix-domain channels cannot receive file descriptors. Thread-safe: {@link #close} may be called
 * from another thread while {@link #receiveFd} waits; the wait then ends within 200 ms.
 *
 * <p>Struct layouts assumed (x86_64): {@code struct sockaddr_un} 110 bytes, {@code struct msghdr} 56,
 * {@code struct iovec} 16, {@code struct cmsghdr} 16 plus data, {@code struct pollfd} 8.
 */
public final class ConsoleSocket implements AutoCloseable {

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;
    private static final short POLLIN = 1;
    private static final long SLICE_MS = 200;
    private static final int MAX_FDS = 16;

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
        String where = path.toString();
        int fd = Sys.run((arena, st) -> {
            int r = (int) Sys.SOCKET.invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (r < 0) {
                throw new LinuxException("socket", "AF_UNIX", errno(st));
            }
            return r;
        });
        try {
            Sys.run((arena, st) -> {
                MemorySegment addr = Sys.sockaddrUn(arena, where);
                if ((int) Sys.BIND.invokeExact(st, fd, addr, (int) Sys.SOCKADDR_UN_SIZE) != 0) {
                    throw new LinuxException("bind", where, errno(st));
                }
                return null;
            });
        } catch (RuntimeException e) {
            Linux.closeQuietly(fd);
            throw e;
        }
        try {
            Sys.run((arena, st) -> {
                if ((int) Sys.LISTEN.invokeExact(st, fd, 1) != 0) {
                    throw new LinuxException("listen", where, errno(st));
                }
                return null;
            });
        } catch (RuntimeException e) {
            Linux.closeQuietly(fd);
            deleteSocketFile(path);
            throw e;
        }
        return new ConsoleSocket(path, fd);
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
            int conn = Sys.run((arena, st) -> {
                while (true) {
                    int r = (int) Sys.ACCEPT4.invokeExact(st, listenFd, MemorySegment.NULL, MemorySegment.NULL,
                            SOCK_CLOEXEC);
                    if (r >= 0) {
                        return r;
                    }
                    if (errno(st) != Linux.EINTR) {
                        throw new LinuxException("accept4", path.toString(), errno(st));
                    }
                }
            });
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
        return Sys.run((arena, st) -> {
            MemorySegment data = arena.allocate(4096);
            MemorySegment iov = arena.allocate(Sys.IOVEC_SIZE, 8);
            iov.set(ValueLayout.ADDRESS, 0, data);
            iov.set(ValueLayout.JAVA_LONG, 8, data.byteSize());
            long controlSize = Sys.cmsgSpace(4L * MAX_FDS);
            MemorySegment control = arena.allocate(controlSize, 8);
            MemorySegment msg = arena.allocate(Sys.MSGHDR_SIZE, 8);
            msg.set(ValueLayout.ADDRESS, 16, iov);
            msg.set(ValueLayout.JAVA_LONG, 24, 1L);
            msg.set(ValueLayout.ADDRESS, 32, control);
            msg.set(ValueLayout.JAVA_LONG, 40, controlSize);
            long n;
            while (true) {
                n = (long) Sys.RECVMSG.invokeExact(st, conn, msg, MSG_CMSG_CLOEXEC);
                if (n >= 0) {
                    break;
                }
                if (errno(st) != Linux.EINTR) {
                    throw new LinuxException("recvmsg", path.toString(), errno(st));
                }
            }
            long controlLength = msg.get(ValueLayout.JAVA_LONG, 40);
            int result = -1;
            long offset = 0;
            while (offset + Sys.CMSGHDR_SIZE <= controlLength) {
                long length = control.get(ValueLayout.JAVA_LONG, offset);
                int level = control.get(ValueLayout.JAVA_INT, offset + 8);
                int type = control.get(ValueLayout.JAVA_INT, offset + 12);
                if (length < Sys.CMSGHDR_SIZE) {
                    break;
                }
                if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                    long count = (length - Sys.CMSGHDR_SIZE) / 4;
                    for (long i = 0; i < count; i++) {
                        int received = control.get(ValueLayout.JAVA_INT, offset + Sys.CMSGHDR_SIZE + 4 * i);
                        if (result < 0) {
                            result = received;
                        } else {
                            Linux.closeQuietly(received);
                        }
                    }
                }
                offset += (length + 7) & ~7L;
            }
            if (result < 0) {
                throw new LinuxException("recvmsg", path + ": message without SCM_RIGHTS fd", Linux.EPROTO);
            }
            byte[] payload = data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            int end = 0;
            while (end < payload.length && payload[end] != 0) {
                end++;
            }
            return new Received(result, new String(payload, 0, end, StandardCharsets.UTF_8));
        });
    }

    /** Polls {@code pollFd} for input in slices, so that {@link #close} from another thread is noticed. */
    private void awaitReadable(int pollFd, long deadline, String call) {
        Sys.run((arena, st) -> {
            MemorySegment pfd = arena.allocate(8, 4);
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
                pfd.set(ValueLayout.JAVA_INT, 0, pollFd);
                pfd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
                pfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                int r = (int) Sys.POLL.invokeExact(st, pfd, 1L, (int) Math.min(leftMs, SLICE_MS));
                if (r > 0) {
                    return null;
                }
                if (r < 0 && errno(st) != Linux.EINTR) {
                    throw new LinuxException("poll", path.toString(), errno(st));
                }
            }
        });
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
