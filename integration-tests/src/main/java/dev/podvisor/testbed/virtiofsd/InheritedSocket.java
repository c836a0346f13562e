package dev.podvisor.testbed.virtiofsd;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Minimal FFM access to an inherited listening unix socket descriptor ({@code virtiofsd --fd=<n>}, as
 * Kata's Go runtime passes fd 3): {@code accept(2)}, {@code read(2)}, {@code write(2)}, {@code close(2)} on
 * raw descriptors. Calls block the calling platform thread; use it from platform threads only.
 */
final class InheritedSocket {
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

    private InheritedSocket() {
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
    static int accept(int listenFd) throws IOException {
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
    static byte[] read(int fd, int max) throws IOException {
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
    static void write(int fd, byte[] bytes) throws IOException {
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
    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable ignored) {
            // best effort
        }
    }
}
