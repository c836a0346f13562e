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
 * The two socket calls {@code dev.podvisor.storage.linux.UnixSockets} does not offer, on raw descriptors:
 * {@code shutdown(2)} (wakes a thread blocked in {@code accept} or {@code recvmsg}) and {@code getsockname(2)}
 * (the path an inherited listening socket, {@code --api-socket fd=<n>}, is bound to). Accepting, reading and
 * writing use {@code UnixSockets} and {@code Linux}.
 */
public final class RawSocket {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
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

}
