package dev.podvisor.testbed.ch;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Minimal FFM access to inherited unix socket descriptors ({@code virtiofsd --fd=<n>} as Kata's Go runtime
 * passes fd 3, {@code cloud-hypervisor --api-socket fd=<n>}): {@code accept(2)}, {@code read(2)},
 * {@code write(2)}, {@code shutdown(2)}, {@code close(2)} and {@code getsockname(2)} on raw descriptors, and
 * stream adapters. Calls block the calling carrier; use them from platform threads only.
 */
public final class RawSocket {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MethodHandle ACCEPT = handle("accept",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle READ = handle("read",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle WRITE = handle("write",
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = handle("close",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle SHUTDOWN = handle("shutdown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle GETSOCKNAME = handle("getsockname",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final int AF_UNIX = 1;
    private static final int SHUT_RDWR = 2;
    private static final int SOCKADDR_UN_SIZE = 110;

    private RawSocket() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), fd);
    }

    /**
     * Accepts one connection on a listening descriptor.
     *
     * @param listenFd the inherited listening socket
     * @return the connected descriptor
     * @throws IOException if accept fails (e.g. the descriptor is not an open listening socket)
     */
    public static int accept(int listenFd) throws IOException {
        try {
            int fd = (int) ACCEPT.invokeExact(listenFd, MemorySegment.NULL, MemorySegment.NULL);
            if (fd < 0) {
                throw new IOException("accept(" + listenFd + ") failed: not a listening socket descriptor");
            }
            return fd;
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("accept(" + listenFd + "): " + t, t);
        }
    }

    /**
     * Reads up to {@code max} bytes.
     *
     * @param fd  descriptor
     * @param max buffer size in bytes
     * @return the bytes read; empty at end of stream
     * @throws IOException on a read error
     */
    public static byte[] read(int fd, int max) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(max);
            long n = (long) READ.invokeExact(fd, buf, (long) max);
            if (n < 0) {
                throw new IOException("read(" + fd + ") failed");
            }
            return buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("read(" + fd + "): " + t, t);
        }
    }

    /**
     * Writes all bytes.
     *
     * @param fd    descriptor
     * @param bytes data
     * @throws IOException on a write error
     */
    public static void write(int fd, byte[] bytes) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, bytes.length));
            MemorySegment.copy(bytes, 0, buf, ValueLayout.JAVA_BYTE, 0, bytes.length);
            long off = 0;
            while (off < bytes.length) {
                long n = (long) WRITE.invokeExact(fd, buf.asSlice(off), (long) bytes.length - off);
                if (n < 0) {
                    throw new IOException("write(" + fd + ") failed");
                }
                off += n;
            }
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("write(" + fd + "): " + t, t);
        }
    }

    /** Closes a descriptor, ignoring errors. @param fd descriptor */
    public static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // best effort
        }
    }

    /**
     * Shuts a socket down both ways (wakes a thread blocked in {@code accept} or {@code read} on Linux),
     * ignoring errors.
     *
     * @param fd descriptor
     */
    public static void shutdown(int fd) {
        try {
            int ignored = (int) SHUTDOWN.invokeExact(fd, SHUT_RDWR);
        } catch (Throwable ignored) {
            // best effort
        }
    }

    /**
     * The filesystem path a unix socket descriptor is bound to.
     *
     * @param fd descriptor
     * @return the bound path
     * @throws IOException if the descriptor is not a unix socket bound to a filesystem path
     */
    public static String boundPath(int fd) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment addr = arena.allocate(SOCKADDR_UN_SIZE);
            MemorySegment len = arena.allocate(ValueLayout.JAVA_INT);
            len.set(ValueLayout.JAVA_INT, 0, SOCKADDR_UN_SIZE);
            int rc = (int) GETSOCKNAME.invokeExact(fd, addr, len);
            if (rc != 0) {
                throw new IOException("getsockname(" + fd + ") failed: not an open socket descriptor");
            }
            if (addr.get(ValueLayout.JAVA_SHORT, 0) != AF_UNIX) {
                throw new IOException("fd " + fd + " is not a unix socket");
            }
            int n = Math.min(len.get(ValueLayout.JAVA_INT, 0), SOCKADDR_UN_SIZE) - 2;
            byte[] path = addr.asSlice(2, Math.max(0, n)).toArray(ValueLayout.JAVA_BYTE);
            int end = 0;
            while (end < path.length && path[end] != 0) {
                end++;
            }
            if (end == 0) {
                throw new IOException("fd " + fd + " is not bound to a filesystem path");
            }
            return new String(path, 0, end, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("getsockname(" + fd + "): " + t, t);
        }
    }

    /** @param fd a connected descriptor @return an input stream reading it (EOF at end of stream) */
    public static java.io.InputStream inputStream(int fd) {
        return new java.io.InputStream() {
            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                byte[] got = RawSocket.read(fd, Math.min(len, 65536));
                if (got.length == 0) {
                    return -1;
                }
                System.arraycopy(got, 0, b, off, got.length);
                return got.length;
            }
        };
    }

    /** @param fd a connected descriptor @return an output stream writing it */
    public static java.io.OutputStream outputStream(int fd) {
        return new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                RawSocket.write(fd, new byte[] {(byte) b});
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                RawSocket.write(fd, java.util.Arrays.copyOfRange(b, off, off + len));
            }
        };
    }
}
