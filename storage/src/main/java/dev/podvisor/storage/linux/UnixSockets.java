package dev.podvisor.storage.linux;

import static dev.podvisor.storage.linux.Sys.errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * {@code AF_UNIX} stream sockets as raw fds, for what the JDK's unix-domain channels cannot do: passing file
 * descriptors ({@code SCM_RIGHTS}). Used to send tap fds to Cloud Hypervisor with {@code vm.add-net}
 * (Kata Go {@code clh.go vmAddNetPutRequest}: the request and its fds in one {@code sendmsg}) and to
 * receive fds (runc's console socket, the testbed's Cloud Hypervisor stand-in).
 *
 * <p>Every fd made here is close-on-exec and owned by the caller ({@link Linux#close}). Calls block the
 * calling thread: use platform threads, or {@link #poll} first.
 *
 * <p>Struct layouts assumed (x86_64): {@code struct sockaddr_un} 110 bytes, {@code struct msghdr} 56,
 * {@code struct iovec} 16, {@code struct cmsghdr} 16 plus data, {@code struct pollfd} 8.
 */
public final class UnixSockets {

    /** {@code poll(2)} event: data to read (or a connection to accept). */
    public static final short POLLIN = 0x001;
    /** {@code poll(2)} event: writing will not block. */
    public static final short POLLOUT = 0x004;
    /** {@code poll(2)} event: error condition (always reported). */
    public static final short POLLERR = 0x008;
    /** {@code poll(2)} event: hang up (always reported). */
    public static final short POLLHUP = 0x010;

    /** {@code SCM_MAX_FD}: the kernel's limit of fds in one message; receive buffers have room for all. */
    public static final int MAX_FDS = 253;

    private static final int AF_UNIX = 1;
    private static final int SOCK_STREAM = 1;
    private static final int SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_NOSIGNAL = 0x4000;
    private static final int MSG_CTRUNC = 0x8;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;

    private UnixSockets() {
    }

    /**
     * A connected {@code socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC)} to {@code path}.
     *
     * @throws IllegalArgumentException when the path is longer than 107 bytes
     * @throws LinuxException e.g. {@code connect(/run/x/clh.sock): ECONNREFUSED}, {@code ENOENT}
     */
    public static int connect(Path path) {
        String where = path.toString();
        int fd = socket(where);
        try {
            Sys.run((arena, st) -> {
                MemorySegment addr = Sys.sockaddrUn(arena, where);
                while ((int) Sys.CONNECT.handle().invokeExact(st, fd, addr, (int) Sys.SOCKADDR_UN_SIZE) != 0) {
                    if (errno(st) != Linux.EINTR) {
                        throw new LinuxException("connect", where, errno(st));
                    }
                }
                return null;
            });
            return fd;
        } catch (RuntimeException e) {
            Linux.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * A socket bound to {@code path} (the socket file is created; remove it yourself after closing) and
     * listening.
     *
     * @param backlog the pending-connection queue length
     * @throws LinuxException e.g. {@code bind(/x/console.sock): EADDRINUSE} when the file exists; nothing is
     *                        left behind on failure
     */
    public static int listen(Path path, int backlog) {
        String where = path.toString();
        int fd = socket(where);
        boolean bound = false;
        try {
            Sys.run((arena, st) -> {
                MemorySegment addr = Sys.sockaddrUn(arena, where);
                if ((int) Sys.BIND.handle().invokeExact(st, fd, addr, (int) Sys.SOCKADDR_UN_SIZE) != 0) {
                    throw new LinuxException("bind", where, errno(st));
                }
                return null;
            });
            bound = true;
            Sys.run((arena, st) -> {
                if ((int) Sys.LISTEN.handle().invokeExact(st, fd, backlog) != 0) {
                    throw new LinuxException("listen", where, errno(st));
                }
                return null;
            });
            return fd;
        } catch (RuntimeException e) {
            Linux.closeQuietly(fd);
            if (bound) {
                try {
                    java.nio.file.Files.deleteIfExists(path);
                } catch (java.io.IOException ignored) {
                    // the bind error is what matters
                }
            }
            throw e;
        }
    }

    /**
     * {@code accept4(listenFd, SOCK_CLOEXEC)}, retrying on {@code EINTR}; blocks until a peer connects.
     *
     * @return the connected fd
     * @throws LinuxException e.g. {@code EBADF} when {@code listenFd} was closed, {@code EINVAL} when it is
     *                        not listening
     */
    public static int accept(int listenFd) {
        return Sys.run((arena, st) -> {
            while (true) {
                int r = (int) Sys.ACCEPT4.handle().invokeExact(st, listenFd, MemorySegment.NULL, MemorySegment.NULL,
                        SOCK_CLOEXEC);
                if (r >= 0) {
                    return r;
                }
                if (errno(st) != Linux.EINTR) {
                    throw new LinuxException("accept4", "fd " + listenFd, errno(st));
                }
            }
        });
    }

    /**
     * Sends {@code data} with {@code fds} attached: ONE {@code sendmsg(MSG_NOSIGNAL)} whose {@code SCM_RIGHTS}
     * control message travels with the first byte (so a receiver gets the fds on the read that returns the
     * start of the message); if the kernel took only part of the data, the rest follows with plain
     * {@code write}s. The caller keeps its own copies of the fds.
     *
     * @param data at least one byte (a control message needs data to travel with)
     * @param fds  0 to {@value #MAX_FDS} open fds
     * @throws IllegalArgumentException when {@code data} is empty or there are too many fds
     * @throws LinuxException e.g. {@code sendmsg(fd 7, 1 fds): EPIPE} when the peer closed,
     *                        {@code EBADF} when one of {@code fds} is not open
     */
    public static void sendWithFds(int sock, byte[] data, int[] fds) {
        if (data.length == 0) {
            throw new IllegalArgumentException("sendWithFds: no data to carry the fds");
        }
        if (fds.length > MAX_FDS) {
            throw new IllegalArgumentException("sendWithFds: " + fds.length + " fds, at most " + MAX_FDS);
        }
        long sent = Sys.run((arena, st) -> {
            MemorySegment buf = arena.allocate(data.length);
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, data.length);
            MemorySegment control = ScmRights.encode(arena, fds);
            MemorySegment msg = message(arena, buf, control);
            while (true) {
                long n = (long) Sys.SENDMSG.handle().invokeExact(st, sock, msg, MSG_NOSIGNAL);
                if (n >= 0) {
                    return n;
                }
                if (errno(st) != Linux.EINTR) {
                    throw new LinuxException("sendmsg", "fd " + sock + ", " + fds.length + " fds", errno(st));
                }
            }
        });
        if (sent < data.length) {
            Linux.writeFully(sock, data, (int) sent, data.length - (int) sent);
        }
    }

    /**
     * One {@code recvmsg(MSG_CMSG_CLOEXEC)} into {@code buf[off, off+len)}, retrying on {@code EINTR}; the
     * fds that came with these bytes ({@code SCM_RIGHTS}, room for {@value #MAX_FDS}) are appended to
     * {@code fdsOut} in order and are owned by the caller.
     *
     * @return the number of bytes read (≥ 1 when {@code len > 0}), 0 at end of stream
     * @throws LinuxException e.g. {@code ECONNRESET}; {@code EPROTO} when the kernel truncated the control
     *                        data (then the fds that did arrive are closed)
     */
    public static int receiveWithFds(int sock, byte[] buf, int off, int len, List<Integer> fdsOut) {
        Objects.checkFromIndexSize(off, len, buf.length);
        return Sys.run((arena, st) -> {
            MemorySegment data = arena.allocate(Math.max(1, len));
            MemorySegment control = arena.allocate(ScmRights.space(MAX_FDS), 8);
            MemorySegment msg = message(arena, data.asSlice(0, len), control);
            long n;
            while (true) {
                n = (long) Sys.RECVMSG.handle().invokeExact(st, sock, msg, MSG_CMSG_CLOEXEC);
                if (n >= 0) {
                    break;
                }
                if (errno(st) != Linux.EINTR) {
                    throw new LinuxException("recvmsg", "fd " + sock, errno(st));
                }
            }
            List<Integer> fds = ScmRights.decode(control, msg.get(ValueLayout.JAVA_LONG, 40));
            if ((msg.get(ValueLayout.JAVA_INT, 48) & MSG_CTRUNC) != 0) {
                fds.forEach(Linux::closeQuietly);
                throw new LinuxException("recvmsg", "fd " + sock + ": control data truncated", Linux.EPROTO);
            }
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, 0, buf, off, (int) n);
            fdsOut.addAll(fds);
            return (int) n;
        });
    }

    /**
     * {@code poll(2)} on one fd, retrying on {@code EINTR} (with the full timeout again).
     *
     * @param events     e.g. {@link #POLLIN}
     * @param timeoutMs  milliseconds; -1 waits forever, 0 returns at once
     * @return the {@code revents} bits ({@link #POLLIN}, {@link #POLLHUP}, ...), 0 on timeout
     * @throws LinuxException e.g. {@code EINVAL}
     */
    public static int poll(int fd, short events, int timeoutMs) {
        return Sys.run((arena, st) -> {
            MemorySegment pfd = arena.allocate(8, 4);
            while (true) {
                pfd.set(ValueLayout.JAVA_INT, 0, fd);
                pfd.set(ValueLayout.JAVA_SHORT, 4, events);
                pfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
                int r = (int) Sys.POLL.handle().invokeExact(st, pfd, 1L, timeoutMs);
                if (r >= 0) {
                    return r == 0 ? 0 : Short.toUnsignedInt(pfd.get(ValueLayout.JAVA_SHORT, 6));
                }
                if (errno(st) != Linux.EINTR) {
                    throw new LinuxException("poll", "fd " + fd, errno(st));
                }
            }
        });
    }

    private static int socket(String where) {
        return Sys.run((arena, st) -> {
            int r = (int) Sys.SOCKET.handle().invokeExact(st, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (r < 0) {
                throw new LinuxException("socket", "AF_UNIX for " + where, errno(st));
            }
            return r;
        });
    }

    /** A {@code struct msghdr} with one iovec over {@code data} and {@code control} (may be NULL). */
    private static MemorySegment message(Arena arena, MemorySegment data, MemorySegment control) {
        MemorySegment iov = arena.allocate(Sys.IOVEC_SIZE, 8);
        iov.set(ValueLayout.ADDRESS, 0, data);
        iov.set(ValueLayout.JAVA_LONG, 8, data.byteSize());
        MemorySegment msg = arena.allocate(Sys.MSGHDR_SIZE, 8);
        msg.set(ValueLayout.ADDRESS, 16, iov);
        msg.set(ValueLayout.JAVA_LONG, 24, 1L);
        msg.set(ValueLayout.ADDRESS, 32, control);
        msg.set(ValueLayout.JAVA_LONG, 40, control.byteSize());
        return msg;
    }

    /** The {@code SOL_SOCKET/SCM_RIGHTS} control message: building and walking {@code cmsghdr}s. */
    static final class ScmRights {

        private ScmRights() {
        }

        /** {@code CMSG_SPACE} for {@code count} fds. */
        static long space(int count) {
            return Sys.cmsgSpace(4L * count);
        }

        /** One control message carrying {@code fds}, or {@code NULL} (length 0) for none. */
        static MemorySegment encode(Arena arena, int[] fds) {
            if (fds.length == 0) {
                return MemorySegment.NULL;
            }
            MemorySegment control = arena.allocate(space(fds.length), 8);
            control.set(ValueLayout.JAVA_LONG, 0, Sys.cmsgLen(4L * fds.length));
            control.set(ValueLayout.JAVA_INT, 8, SOL_SOCKET);
            control.set(ValueLayout.JAVA_INT, 12, SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.set(ValueLayout.JAVA_INT, Sys.CMSGHDR_SIZE + 4L * i, fds[i]);
            }
            return control;
        }

        /** Every fd of every {@code SCM_RIGHTS} message in the first {@code length} bytes of {@code control}. */
        static List<Integer> decode(MemorySegment control, long length) {
            List<Integer> fds = new java.util.ArrayList<>();
            long offset = 0;
            while (offset + Sys.CMSGHDR_SIZE <= length) {
                long cmsgLen = control.get(ValueLayout.JAVA_LONG, offset);
                if (cmsgLen < Sys.CMSGHDR_SIZE || offset + cmsgLen > length) {
                    break;
                }
                int level = control.get(ValueLayout.JAVA_INT, offset + 8);
                int type = control.get(ValueLayout.JAVA_INT, offset + 12);
                if (level == SOL_SOCKET && type == SCM_RIGHTS) {
                    long count = (cmsgLen - Sys.CMSGHDR_SIZE) / 4;
                    for (long i = 0; i < count; i++) {
                        fds.add(control.get(ValueLayout.JAVA_INT, offset + Sys.CMSGHDR_SIZE + 4 * i));
                    }
                }
                offset += (cmsgLen + 7) & ~7L;
            }
            return fds;
        }
    }
}
