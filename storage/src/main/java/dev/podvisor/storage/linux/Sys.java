package dev.podvisor.storage.linux;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Package-private plumbing for the FFM downcalls: the linker, libc lookup, errno capture and the
 * {@link Downcall}s of every libc function this package calls (each linked on its first use). x86_64 Linux with glibc only: {@code long},
 * {@code size_t}, {@code ssize_t} and pointers are 64 bits, {@code int}, {@code pid_t}, {@code uid_t} and
 * {@code socklen_t} 32 bits.
 *
 * <p>Every handle except the errno-free ones takes a leading {@link MemorySegment} of
 * {@link #CAPTURE} layout into which the JVM stores {@code errno} right after the call
 * ({@code Linker.Option.captureCallState("errno")}), because the JVM itself may clobber {@code errno}
 * before Java code could read it.
 */
@SuppressWarnings("restricted") // FFM downcalls are this class's purpose; the JVM runs with --enable-native-access
final class Sys {

    private Sys() {
    }

    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup LIBC = LINKER.defaultLookup();
    static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final AddressLayout PTR = ValueLayout.ADDRESS;
    static final AddressLayout C_STRING = ValueLayout.ADDRESS.withTargetLayout(
            MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));

    /** A libc function whose errno is captured into the leading state segment; linked on first use. */
    static Downcall errnoCall(String name, FunctionDescriptor descriptor) {
        return new Downcall(name, descriptor, CAPTURE_ERRNO);
    }

    /** A variadic libc function (fixed arguments before {@code firstVariadic}) with errno capture. */
    static Downcall variadicErrnoCall(String name, int firstVariadic, FunctionDescriptor descriptor) {
        return new Downcall(name, descriptor, CAPTURE_ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A libc function that cannot fail (no errno capture). */
    static Downcall plainCall(String name, FunctionDescriptor descriptor) {
        return new Downcall(name, descriptor);
    }

    /**
     * The address of libc's {@code name}.
     *
     * @throws UnsatisfiedLinkError naming the symbol when libc does not have it
     */
    static MemorySegment symbol(String name) {
        return LIBC.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: " + name));
    }

    /** errno as captured by the last call that used {@code state}. */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** A NUL-terminated UTF-8 copy of {@code s} in {@code arena}, or {@code NULL} for a null string. */
    static MemorySegment cString(Arena arena, String s) {
        return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
    }

    /** One native call: gets a confined arena and an errno state segment, both freed on return. */
    @FunctionalInterface
    interface NativeCall<T> {
        T call(Arena arena, MemorySegment state) throws Throwable;
    }

    /**
     * {@code syscall(call, a1, ..., a6)} with errno captured into {@code state}.
     *
     * @return the kernel's result, or -1 (errno in {@code state})
     */
    static long syscall(MemorySegment state, Syscall call, long a1, long a2, long a3, long a4, long a5, long a6)
            throws Throwable {
        return (long) SYSCALL.handle().invokeExact(state, call.number(), a1, a2, a3, a4, a5, a6);
    }

    /** Runs {@code call}, passing runtime exceptions through and wrapping anything else. */
    static <T> T run(NativeCall<T> call) {
        try (Arena arena = Arena.ofConfined()) {
            return call.call(arena, arena.allocate(CAPTURE));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("FFM downcall failed: " + t, t);
        }
    }

    // ---- handles (x86_64 glibc prototypes) ----

    /**
     * {@code long syscall(long number, ...)}: glibc reads six {@code long} arguments after the number and returns
     * the kernel's result, or -1 with errno set. Pointers go as their addresses, unused arguments as 0. One shape
     * for every {@link Syscall}, so one linked stub for all of them.
     */
    static final Downcall SYSCALL = variadicErrnoCall("syscall", 1,
            FunctionDescriptor.of(LONG, LONG, LONG, LONG, LONG, LONG, LONG, LONG));
    static final Downcall POSIX_OPENPT = errnoCall("posix_openpt", FunctionDescriptor.of(INT, INT));
    static final Downcall GRANTPT = errnoCall("grantpt", FunctionDescriptor.of(INT, INT));
    static final Downcall UNLOCKPT = errnoCall("unlockpt", FunctionDescriptor.of(INT, INT));
    /** glibc {@code int ptsname_r(int fd, char *buf, size_t len)}: returns 0 or an errno value. */
    static final Downcall PTSNAME_R = errnoCall("ptsname_r", FunctionDescriptor.of(INT, INT, PTR, LONG));
    static final Downcall SOCKET = errnoCall("socket", FunctionDescriptor.of(INT, INT, INT, INT));
    static final Downcall BIND = errnoCall("bind", FunctionDescriptor.of(INT, INT, PTR, INT));
    static final Downcall LISTEN = errnoCall("listen", FunctionDescriptor.of(INT, INT, INT));
    static final Downcall CONNECT = errnoCall("connect", FunctionDescriptor.of(INT, INT, PTR, INT));
    static final Downcall ACCEPT4 = errnoCall("accept4", FunctionDescriptor.of(INT, INT, PTR, PTR, INT));
    static final Downcall RECVMSG = errnoCall("recvmsg", FunctionDescriptor.of(LONG, INT, PTR, INT));
    static final Downcall SENDMSG = errnoCall("sendmsg", FunctionDescriptor.of(LONG, INT, PTR, INT));
    static final Downcall POLL = errnoCall("poll", FunctionDescriptor.of(INT, PTR, LONG, INT));
    static final Downcall STRERROR = plainCall("strerror", FunctionDescriptor.of(C_STRING, INT));
    /** glibc ≥ 2.32: the errno constant's name ("EINVAL"), or NULL when unknown. */
    static final Downcall STRERRORNAME_NP = LIBC.find("strerrorname_np").isPresent()
            ? plainCall("strerrorname_np", FunctionDescriptor.of(C_STRING, INT)) : null;

    // ---- struct layouts (x86_64) ----

    /**
     * {@code struct sockaddr_un}: {@code sa_family_t sun_family} (u16) at 0, {@code char sun_path[108]} at 2;
     * 110 bytes.
     */
    static final long SOCKADDR_UN_SIZE = 110;
    static final long SUN_PATH_MAX = 108;

    /**
     * {@code struct msghdr}: msg_name ptr @0, msg_namelen u32 @8, msg_iov ptr @16, msg_iovlen size_t @24,
     * msg_control ptr @32, msg_controllen size_t @40, msg_flags int @48; 56 bytes.
     */
    static final long MSGHDR_SIZE = 56;
    /** {@code struct iovec}: iov_base ptr @0, iov_len size_t @8; 16 bytes. */
    static final long IOVEC_SIZE = 16;
    /** {@code struct cmsghdr}: cmsg_len size_t @0, cmsg_level int @8, cmsg_type int @12, data @16. */
    static final long CMSGHDR_SIZE = 16;

    /** {@code CMSG_SPACE(n)}: header plus data rounded up to 8 bytes. */
    static long cmsgSpace(long dataBytes) {
        return CMSGHDR_SIZE + ((dataBytes + 7) & ~7L);
    }

    /** {@code CMSG_LEN(n)}: header plus data, unpadded. */
    static long cmsgLen(long dataBytes) {
        return CMSGHDR_SIZE + dataBytes;
    }

    /** A {@code struct sockaddr_un} for {@code path}; the path must fit in 107 bytes plus NUL. */
    static MemorySegment sockaddrUn(Arena arena, String path) {
        byte[] bytes = path.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (bytes.length >= SUN_PATH_MAX) {
            throw new IllegalArgumentException("unix socket path: longer than 107 bytes: " + path);
        }
        MemorySegment addr = arena.allocate(SOCKADDR_UN_SIZE, 2);
        addr.set(ValueLayout.JAVA_SHORT, 0, (short) 1); // AF_UNIX
        MemorySegment.copy(bytes, 0, addr, ValueLayout.JAVA_BYTE, 2, bytes.length);
        return addr;
    }
}
