package dev.podvisor.storage.linux;

/**
 * The Linux system calls Podvisor makes through glibc's {@code syscall(2)} ({@link Sys#SYSCALL}), with their
 * numbers on x86_64 ({@code arch/x86/entry/syscalls/syscall_64.tbl}) and on arm64
 * ({@code include/uapi/asm-generic/unistd.h}).
 *
 * <p>Why not one downcall per libc wrapper: FFM links one stub class (and about ten lambda-form classes, none in
 * the AOT cache) per distinct function shape, 6–11 ms each at a JVM's start and about 50 KB of metaspace in every
 * shim JVM for good. Every call through {@code syscall(2)} has the same shape ({@code long syscall(long, ...)},
 * six {@code long} arguments read with {@code va_arg}), so the calls each shim's start, boot, network set-up and
 * delete make (decision 0011) share one stub. The calls that need libc itself ({@code posix_openpt},
 * {@code ptsname_r}, {@code strerror}) or have no arm64 twin ({@code poll}) keep their own downcalls.
 */
enum Syscall {
    READ(0, 63),
    WRITE(1, 64),
    CLOSE(3, 57),
    IOCTL(16, 29),
    DUP(32, 23),
    GETPID(39, 172),
    WAIT4(61, 260),
    KILL(62, 129),
    GETUID(102, 174),
    SETSID(112, 157),
    STATFS(137, 43),
    PRCTL(157, 167),
    MOUNT(165, 40),
    UMOUNT2(166, 39),
    OPENAT(257, 56),
    SETNS(308, 268);

    private static final String ARCH = System.getProperty("os.arch");
    private static final boolean X86_64 = ARCH.equals("amd64") || ARCH.equals("x86_64");
    private static final boolean ARM64 = ARCH.equals("aarch64");

    private final long x86_64;
    private final long arm64;

    Syscall(long x86_64, long arm64) {
        this.x86_64 = x86_64;
        this.arm64 = arm64;
    }

    /**
     * This call's number on the running architecture.
     *
     * @throws UnsupportedOperationException naming {@code os.arch} on an architecture other than x86_64 and arm64
     */
    long number() {
        if (X86_64) {
            return x86_64;
        }
        if (ARM64) {
            return arm64;
        }
        throw new UnsupportedOperationException(
                "system call " + name().toLowerCase() + ": os.arch " + ARCH + " is not x86_64 or arm64");
    }
}
