package dev.podvisor.storage.linux;

import static dev.podvisor.storage.linux.Sys.cString;
import static dev.podvisor.storage.linux.Sys.errno;

import dev.podvisor.storage.host.FsStat;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Linux system calls through the FFM API ({@code java.lang.foreign}, no JNI), for x86_64 Linux with glibc.
 *
 * <p>All methods are static and thread-safe (each call uses its own confined arena). Every failure throws
 * {@link LinuxException}, whose message names the call, the argument and the error, e.g.
 * {@code mount(/a → /b, type overlay): EINVAL (Invalid argument)}. {@code errno} is captured with
 * {@code Linker.Option.captureCallState("errno")}.
 *
 * <p>Blocking calls ({@link #read}, {@link #waitpid} without {@link #WNOHANG}) block the carrier thread
 * when called from a virtual thread; call them from platform threads.
 *
 * <p>Struct layouts assumed (x86_64): {@code struct statfs} 120 bytes with 64-bit {@code f_type @0,
 * f_bsize @8, f_blocks @16, f_bfree @24}; {@code struct winsize} four {@code unsigned short}
 * ({@code ws_row @0, ws_col @2}); {@code int} status for {@code waitpid}; ioctl request numbers as in
 * the x86_64 kernel headers.
 */
public final class Linux {

    private Linux() {
    }

    // ---- mount(2) flags (linux/mount.h) ----
    /** Mount read-only. */
    public static final long MS_RDONLY = 1L;
    /** Ignore set-user-ID and set-group-ID bits. */
    public static final long MS_NOSUID = 2L;
    /** Do not allow access to device nodes. */
    public static final long MS_NODEV = 4L;
    /** Do not allow programs to be executed. */
    public static final long MS_NOEXEC = 8L;
    /** Writes are synced at once. */
    public static final long MS_SYNCHRONOUS = 16L;
    /** Change the flags of an existing mount. */
    public static final long MS_REMOUNT = 32L;
    /** Allow mandatory locks. */
    public static final long MS_MANDLOCK = 64L;
    /** Directory modifications are synchronous. */
    public static final long MS_DIRSYNC = 128L;
    /** Do not follow symlinks. */
    public static final long MS_NOSYMFOLLOW = 256L;
    /** Do not update access times. */
    public static final long MS_NOATIME = 1024L;
    /** Do not update directory access times. */
    public static final long MS_NODIRATIME = 2048L;
    /** Bind mount. */
    public static final long MS_BIND = 4096L;
    /** Move a mount. */
    public static final long MS_MOVE = 8192L;
    /** Recursive (with {@link #MS_BIND} or the propagation flags). */
    public static final long MS_REC = 16384L;
    /** Suppress some kernel messages. */
    public static final long MS_SILENT = 32768L;
    /** Propagation: unbindable. */
    public static final long MS_UNBINDABLE = 1L << 17;
    /** Propagation: private. */
    public static final long MS_PRIVATE = 1L << 18;
    /** Propagation: slave. */
    public static final long MS_SLAVE = 1L << 19;
    /** Propagation: shared. */
    public static final long MS_SHARED = 1L << 20;
    /** Update access times relative to modification times. */
    public static final long MS_RELATIME = 1L << 21;
    /** Always update access times. */
    public static final long MS_STRICTATIME = 1L << 24;
    /** Lazy time updates. */
    public static final long MS_LAZYTIME = 1L << 25;

    // ---- umount2(2) flags ----
    /** Force unmount. */
    public static final int MNT_FORCE = 1;
    /** Lazy unmount: detach now, clean up when no longer busy. */
    public static final int MNT_DETACH = 2;
    /** Mark for expiry. */
    public static final int MNT_EXPIRE = 4;
    /** Do not follow a symlink at the target. */
    public static final int UMOUNT_NOFOLLOW = 8;

    // ---- open(2) flags (x86_64 asm-generic/fcntl.h) ----
    /** {@code ioctl(2)} request: bytes readable without blocking ({@code asm-generic/ioctls.h}). */
    private static final long FIONREAD = 0x541B;

    /** {@code openat(2)}'s directory argument for a path relative to the working directory. */
    private static final int AT_FDCWD = -100;

    /** open(2) flag {@code O_RDONLY}. */
    public static final int O_RDONLY = 0;
    /** open(2) flag {@code O_WRONLY}. */
    public static final int O_WRONLY = 1;
    /** open(2) flag {@code O_RDWR}. */
    public static final int O_RDWR = 2;
    /** open(2) flag {@code O_CREAT}. */
    public static final int O_CREAT = 0100;
    /** open(2) flag {@code O_EXCL}. */
    public static final int O_EXCL = 0200;
    /** open(2) flag {@code O_NOCTTY}. */
    public static final int O_NOCTTY = 0400;
    /** open(2) flag {@code O_TRUNC}. */
    public static final int O_TRUNC = 01000;
    /** open(2) flag {@code O_APPEND}. */
    public static final int O_APPEND = 02000;
    /** open(2) flag {@code O_NONBLOCK}. */
    public static final int O_NONBLOCK = 04000;
    /** open(2) flag {@code O_DIRECTORY}. */
    public static final int O_DIRECTORY = 0200000;
    /** open(2) flag {@code O_NOFOLLOW}. */
    public static final int O_NOFOLLOW = 0400000;
    /** open(2) flag {@code O_CLOEXEC}. */
    public static final int O_CLOEXEC = 02000000;

    // ---- waitpid(2) options ----
    /** Return at once when no child has changed state. */
    public static final int WNOHANG = 1;
    /** Also report stopped children. */
    public static final int WUNTRACED = 2;

    // ---- signals (x86_64) ----
    /** Signal {@code SIGHUP} (x86_64 number). */
    public static final int SIGHUP = 1;
    /** Signal {@code SIGINT} (x86_64 number). */
    public static final int SIGINT = 2;
    /** Signal {@code SIGQUIT} (x86_64 number). */
    public static final int SIGQUIT = 3;
    /** Signal {@code SIGKILL} (x86_64 number). */
    public static final int SIGKILL = 9;
    /** Signal {@code SIGUSR1} (x86_64 number). */
    public static final int SIGUSR1 = 10;
    /** Signal {@code SIGUSR2} (x86_64 number). */
    public static final int SIGUSR2 = 12;
    /** Signal {@code SIGPIPE} (x86_64 number). */
    public static final int SIGPIPE = 13;
    /** Signal {@code SIGTERM} (x86_64 number). */
    public static final int SIGTERM = 15;
    /** Signal {@code SIGCHLD} (x86_64 number). */
    public static final int SIGCHLD = 17;
    /** Signal {@code SIGCONT} (x86_64 number). */
    public static final int SIGCONT = 18;
    /** Signal {@code SIGSTOP} (x86_64 number). */
    public static final int SIGSTOP = 19;
    /** Signal {@code SIGWINCH} (x86_64 number). */
    public static final int SIGWINCH = 28;

    // ---- errno values (asm-generic/errno-base.h, errno.h) ----
    /** errno {@code EPERM}. */
    public static final int EPERM = 1;
    /** errno {@code ENOENT}. */
    public static final int ENOENT = 2;
    /** errno {@code ESRCH}. */
    public static final int ESRCH = 3;
    /** errno {@code EINTR}. */
    public static final int EINTR = 4;
    /** errno {@code EIO}. */
    public static final int EIO = 5;
    /** errno {@code ENXIO}. */
    public static final int ENXIO = 6;
    /** errno {@code EBADF}. */
    public static final int EBADF = 9;
    /** errno {@code ECHILD}. */
    public static final int ECHILD = 10;
    /** errno {@code EAGAIN}. */
    public static final int EAGAIN = 11;
    /** errno {@code EACCES}. */
    public static final int EACCES = 13;
    /** errno {@code EBUSY}. */
    public static final int EBUSY = 16;
    /** errno {@code EEXIST}. */
    public static final int EEXIST = 17;
    /** errno {@code ENODEV}. */
    public static final int ENODEV = 19;
    /** errno {@code ENOTDIR}. */
    public static final int ENOTDIR = 20;
    /** errno {@code EINVAL}. */
    public static final int EINVAL = 22;
    /** errno {@code ENOTTY}. */
    public static final int ENOTTY = 25;
    /** errno {@code EROFS}. */
    public static final int EROFS = 30;
    /** errno {@code EPROTO}. */
    public static final int EPROTO = 71;
    /** errno {@code ETIMEDOUT}. */
    public static final int ETIMEDOUT = 110;

    // ---- ioctl requests (x86_64) ----
    /** {@code _IO(0x12, 94)}: int, non-zero when the block device is read-only. */
    static final long BLKROGET = 0x125eL;
    /** {@code _IOR(0x12, 114, size_t)}: u64 size in bytes. */
    static final long BLKGETSIZE64 = 0x80081272L;
    static final long TIOCGWINSZ = 0x5413L;
    static final long TIOCSWINSZ = 0x5414L;
    private static final int PR_SET_CHILD_SUBREAPER = 36;

    // ---- mounts ----

    /**
     * {@code mount(2)}.
     *
     * @param source the device, directory or pseudo name; null for none (remounts, propagation changes)
     * @param target the mount point, an existing directory or file
     * @param fstype the filesystem type, e.g. {@code overlay}; null for binds, remounts, propagation changes
     * @param flags  {@code MS_*} flags
     * @param data   filesystem-specific options, e.g. {@code lowerdir=/l,upperdir=/u,workdir=/w}; may be null
     * @throws LinuxException e.g. {@code mount(/a → /b, type overlay): EINVAL (Invalid argument)}
     */
    public static void mount(String source, String target, String fstype, long flags, String data) {
        Sys.run((arena, st) -> {
            long r = Sys.syscall(st, Syscall.MOUNT, cString(arena, source).address(), cString(arena, target).address(),
                    cString(arena, fstype).address(), flags, cString(arena, data).address(), 0);
            if (r != 0) {
                String what = (source == null ? "none" : source) + " → " + target
                        + (fstype == null ? "" : ", type " + fstype);
                throw new LinuxException("mount", what, errno(st));
            }
            return null;
        });
    }

    /**
     * {@code umount2(2)}.
     *
     * @param flags {@link #MNT_DETACH}, {@link #MNT_FORCE}, ... or 0
     * @throws LinuxException {@code EINVAL} when {@code target} is not a mount point, {@code EBUSY} when busy
     */
    public static void umount2(String target, int flags) {
        Sys.run((arena, st) -> {
            long r = Sys.syscall(st, Syscall.UMOUNT2, cString(arena, target).address(), flags, 0, 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("umount2", target, errno(st));
            }
            return null;
        });
    }

    /**
     * {@code statfs(2)} of the filesystem holding {@code path}.
     *
     * @throws LinuxException e.g. {@code ENOENT} when {@code path} does not exist
     */
    public static FsStat statfs(String path) {
        return Sys.run((arena, st) -> {
            MemorySegment buf = arena.allocate(120, 8);
            long r = Sys.syscall(st, Syscall.STATFS, cString(arena, path).address(), buf.address(), 0, 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("statfs", path, errno(st));
            }
            return new FsStat(buf.get(ValueLayout.JAVA_LONG, 0), buf.get(ValueLayout.JAVA_LONG, 8),
                    buf.get(ValueLayout.JAVA_LONG, 16), buf.get(ValueLayout.JAVA_LONG, 24));
        });
    }

    /**
     * The mount flags of the mount holding {@code path}, from {@code statfs(2)}'s {@code f_flags} (offset 80
     * of the x86_64 {@code struct statfs}), translated from {@code ST_*} to {@code MS_*}: {@link #MS_RDONLY},
     * {@link #MS_NOSUID}, {@link #MS_NODEV}, {@link #MS_NOEXEC}, {@link #MS_SYNCHRONOUS},
     * {@link #MS_MANDLOCK}, {@link #MS_NOATIME}, {@link #MS_NODIRATIME}, {@link #MS_RELATIME},
     * {@link #MS_NOSYMFOLLOW}. A bind remount that should keep these must pass them again (what runc does).
     *
     * @throws LinuxException e.g. {@code ENOENT} when {@code path} does not exist
     */
    public static long mountFlags(String path) {
        long st = Sys.run((arena, state) -> {
            MemorySegment buf = arena.allocate(120, 8);
            long r = Sys.syscall(state, Syscall.STATFS, cString(arena, path).address(), buf.address(), 0, 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("statfs", path, errno(state));
            }
            return buf.get(ValueLayout.JAVA_LONG, 80);
        });
        long flags = st & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_MANDLOCK
                | MS_NOATIME | MS_NODIRATIME | MS_NOSYMFOLLOW); // ST_* and MS_* agree on these bits
        if ((st & 4096L) != 0) { // ST_RELATIME
            flags |= MS_RELATIME;
        }
        return flags;
    }

    /**
     * Whether the block device {@code device} (a node path such as {@code /dev/loop3}) is read-only:
     * {@code ioctl(BLKROGET)} on it opened {@code O_RDONLY}.
     *
     * @throws LinuxException when it cannot be opened, or {@code ENOTTY} when it is not a block device
     */
    public static boolean blockDeviceReadOnly(String device) {
        int fd = open(device, O_RDONLY | O_CLOEXEC);
        try {
            return Sys.run((arena, st) -> {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
                int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, BLKROGET, out.address(), 0, 0, 0);
                if (r != 0) {
                    throw new LinuxException("ioctl(BLKROGET)", device, errno(st));
                }
                return out.get(ValueLayout.JAVA_INT, 0) != 0;
            });
        } finally {
            closeQuietly(fd);
        }
    }

    /**
     * The size in bytes of the block device {@code device}: {@code ioctl(BLKGETSIZE64)}.
     *
     * @throws LinuxException when it cannot be opened, or {@code ENOTTY} when it is not a block device
     */
    public static long blockDeviceSizeBytes(String device) {
        int fd = open(device, O_RDONLY | O_CLOEXEC);
        try {
            return Sys.run((arena, st) -> {
                MemorySegment out = arena.allocate(ValueLayout.JAVA_LONG);
                int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, BLKGETSIZE64, out.address(), 0, 0, 0);
                if (r != 0) {
                    throw new LinuxException("ioctl(BLKGETSIZE64)", device, errno(st));
                }
                return out.get(ValueLayout.JAVA_LONG, 0);
            });
        } finally {
            closeQuietly(fd);
        }
    }

    // ---- processes ----

    /**
     * Links the downcall that every sandbox's boot and teardown makes ({@code mount}, {@code umount2},
     * {@code statfs}, all through one {@code syscall(2)} stub, {@link Syscall}) ahead of its first use, e.g. on a
     * spare thread while the shim daemon starts: at a JVM's start linking costs 6–11 ms, the first downcall of
     * all about 30 ms more ({@link Downcall}).
     */
    public static void linkMountCalls() {
        Sys.SYSCALL.handle();
    }

    /**
     * {@code setsid(2)}: makes the calling process a session and process-group leader.
     *
     * @return the new session id
     * @throws LinuxException {@code EPERM} when the process already leads a process group
     */
    public static int setsid() {
        return Sys.run((arena, st) -> {
            long r = Sys.syscall(st, Syscall.SETSID, 0, 0, 0, 0, 0, 0);
            if (r < 0) {
                throw new LinuxException("setsid", "", errno(st));
            }
            return (int) r;
        });
    }

    /** {@code getuid(2)}: the real user id of this process. */
    public static int getuid() {
        return Sys.run((arena, st) -> (int) Sys.syscall(st, Syscall.GETUID, 0, 0, 0, 0, 0, 0));
    }

    /** {@code getpid(2)}: this process's id. */
    public static int getpid() {
        return Sys.run((arena, st) -> (int) Sys.syscall(st, Syscall.GETPID, 0, 0, 0, 0, 0, 0));
    }

    /**
     * {@code prctl(PR_SET_CHILD_SUBREAPER, 1)}: orphaned descendants are re-parented to this process
     * instead of init, so it can {@link #waitpid} them (what containerd's shims do).
     */
    public static void setChildSubreaper() {
        Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.PRCTL, PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("prctl", "PR_SET_CHILD_SUBREAPER", errno(st));
            }
            return null;
        });
    }

    /**
     * {@code waitpid(2)}, retrying on {@code EINTR}.
     *
     * @param pid     the child, or -1 for any child
     * @param options {@link #WNOHANG}, {@link #WUNTRACED} or 0
     * @return the decoded status; {@link WaitStatus#NONE} (pid 0) with {@link #WNOHANG} when no child changed
     * @throws LinuxException {@code ECHILD} when {@code pid} is not a child (or was already reaped)
     */
    public static WaitStatus waitpid(int pid, int options) {
        return Sys.run((arena, st) -> {
            MemorySegment status = arena.allocate(ValueLayout.JAVA_INT);
            while (true) {
                int r = (int) Sys.syscall(st, Syscall.WAIT4, pid, status.address(), options, 0, 0, 0);
                if (r > 0) {
                    return WaitStatus.decode(r, status.get(ValueLayout.JAVA_INT, 0));
                }
                if (r == 0) {
                    return WaitStatus.NONE;
                }
                int e = errno(st);
                if (e != EINTR) {
                    throw new LinuxException("waitpid", Integer.toString(pid), e);
                }
            }
        });
    }

    /**
     * The exit status a shell (and containerd's {@code TaskExit.exit_status}) reports: the exit code for a
     * normal exit, {@code 128 + signal} for a process killed by a signal.
     *
     * @throws IllegalArgumentException when {@code s} is neither an exit nor a death by signal
     */
    public static int exitStatus(WaitStatus s) {
        if (s.exited()) {
            return s.exitCode();
        }
        if (s.signaled()) {
            return 128 + s.signal();
        }
        throw new IllegalArgumentException("wait status: neither exited nor signaled: " + s);
    }

    /**
     * {@code kill(2)}.
     *
     * @throws LinuxException {@code ESRCH} when no such process, {@code EPERM} when not allowed
     */
    public static void kill(int pid, int signal) {
        Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.KILL, pid, signal, 0, 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("kill", pid + ", signal " + signal, errno(st));
            }
            return null;
        });
    }

    // ---- terminals ----

    /**
     * Opens a new pseudo-terminal: {@code posix_openpt(O_RDWR|O_NOCTTY|O_CLOEXEC)}, {@code grantpt},
     * {@code unlockpt}, {@code ptsname_r}. On failure the master is closed again.
     *
     * @return the master fd (close it with {@link #close}) and the slave path
     */
    public static Pty openPty() {
        int master = Sys.run((arena, st) -> {
            int r = (int) Sys.POSIX_OPENPT.handle().invokeExact(st, O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (r < 0) {
                throw new LinuxException("posix_openpt", "/dev/ptmx", errno(st));
            }
            return r;
        });
        try {
            String slave = Sys.run((arena, st) -> {
                if ((int) Sys.GRANTPT.handle().invokeExact(st, master) != 0) {
                    throw new LinuxException("grantpt", "fd " + master, errno(st));
                }
                if ((int) Sys.UNLOCKPT.handle().invokeExact(st, master) != 0) {
                    throw new LinuxException("unlockpt", "fd " + master, errno(st));
                }
                MemorySegment name = arena.allocate(128);
                int r = (int) Sys.PTSNAME_R.handle().invokeExact(st, master, name, 128L);
                if (r != 0) {
                    throw new LinuxException("ptsname_r", "fd " + master, r);
                }
                return name.getString(0);
            });
            return new Pty(master, slave);
        } catch (RuntimeException e) {
            closeQuietly(master);
            throw e;
        }
    }

    /**
     * Sets the terminal size of {@code fd} (a pty master or slave): {@code ioctl(TIOCSWINSZ)}. The
     * foreground process group of the terminal gets {@code SIGWINCH}.
     *
     * @param rows    rows in characters, 0–65535
     * @param columns columns in characters, 0–65535
     */
    public static void setWindowSize(int fd, int rows, int columns) {
        if (rows < 0 || rows > 0xffff || columns < 0 || columns > 0xffff) {
            throw new IllegalArgumentException("window size: rows " + rows + ", columns " + columns
                    + ": each must be 0..65535");
        }
        Sys.run((arena, st) -> {
            MemorySegment ws = arena.allocate(8, 2);
            ws.set(ValueLayout.JAVA_SHORT, 0, (short) rows);
            ws.set(ValueLayout.JAVA_SHORT, 2, (short) columns);
            int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, TIOCSWINSZ, ws.address(), 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("ioctl(TIOCSWINSZ)", "fd " + fd, errno(st));
            }
            return null;
        });
    }

    /** The terminal size of {@code fd}: {@code ioctl(TIOCGWINSZ)}. */
    public static WindowSize getWindowSize(int fd) {
        return Sys.run((arena, st) -> {
            MemorySegment ws = arena.allocate(8, 2);
            int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, TIOCGWINSZ, ws.address(), 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("ioctl(TIOCGWINSZ)", "fd " + fd, errno(st));
            }
            return new WindowSize(Short.toUnsignedInt(ws.get(ValueLayout.JAVA_SHORT, 0)),
                    Short.toUnsignedInt(ws.get(ValueLayout.JAVA_SHORT, 2)));
        });
    }

    // ---- file descriptors ----

    /**
     * {@code read(2)} into {@code buf[off, off+len)}, retrying on {@code EINTR}.
     *
     * @return the number of bytes read (≥ 1), or -1 at end of file, and also on {@code EIO}, which is how a
     *         pty master reports that every slave fd was closed
     * @throws LinuxException on other errors
     */
    public static int read(int fd, byte[] buf, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        if (len == 0) {
            return 0;
        }
        return Sys.run((arena, st) -> {
            MemorySegment native_ = arena.allocate(len);
            while (true) {
                long n = Sys.syscall(st, Syscall.READ, fd, native_.address(), len, 0, 0, 0);
                if (n > 0) {
                    MemorySegment.copy(native_, ValueLayout.JAVA_BYTE, 0, buf, off, (int) n);
                    return (int) n;
                }
                if (n == 0) {
                    return -1;
                }
                int e = errno(st);
                if (e == EIO) {
                    return -1;
                }
                if (e != EINTR) {
                    throw new LinuxException("read", "fd " + fd, e);
                }
            }
        });
    }

    /**
     * Writes all of {@code buf[off, off+len)} to {@code fd}, looping over short writes and retrying on
     * {@code EINTR}.
     *
     * @throws LinuxException e.g. {@code EPIPE}, {@code EBADF}
     */
    public static void writeFully(int fd, byte[] buf, int off, int len) {
        java.util.Objects.checkFromIndexSize(off, len, buf.length);
        if (len == 0) {
            return;
        }
        Sys.run((arena, st) -> {
            MemorySegment native_ = arena.allocate(len);
            MemorySegment.copy(buf, off, native_, ValueLayout.JAVA_BYTE, 0, len);
            long done = 0;
            while (done < len) {
                long n = Sys.syscall(st, Syscall.WRITE, fd, native_.address() + done, len - done, 0, 0, 0);
                if (n >= 0) {
                    done += n;
                } else {
                    int e = errno(st);
                    if (e != EINTR) {
                        throw new LinuxException("write", "fd " + fd, e);
                    }
                }
            }
            return null;
        });
    }

    /**
     * Bytes written to a pipe or FIFO and not read yet ({@code ioctl(FIONREAD)}); for a regular file, the bytes
     * from the file offset to its end.
     *
     * @throws LinuxException e.g. {@code EBADF}, or {@code ENOTTY} for a file type without the request
     */
    public static int pendingBytes(int fd) {
        return Sys.run((arena, st) -> {
            MemorySegment count = arena.allocate(ValueLayout.JAVA_INT);
            int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, FIONREAD, count.address(), 0, 0, 0);
            if (r != 0) {
                throw new LinuxException("ioctl(FIONREAD)", "fd " + fd, errno(st));
            }
            return count.get(ValueLayout.JAVA_INT, 0);
        });
    }

    /**
     * {@code close(2)}. {@code EINTR} is not retried (Linux always frees the fd).
     *
     * @throws LinuxException {@code EBADF} when {@code fd} is not open
     */
    public static void close(int fd) {
        Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.CLOSE, fd, 0, 0, 0, 0, 0);
            if (r != 0 && errno(st) != EINTR) {
                throw new LinuxException("close", "fd " + fd, errno(st));
            }
            return null;
        });
    }

    /** {@link #close}, ignoring every error; for clean-up paths. */
    public static void closeQuietly(int fd) {
        if (fd < 0) {
            return;
        }
        try {
            close(fd);
        } catch (RuntimeException ignored) {
            // nothing left to do
        }
    }

    /**
     * {@code open(2)} with mode 0 (use {@link #open(String, int, int)} with {@link #O_CREAT}).
     *
     * @param flags {@code O_*} flags, e.g. {@code O_RDWR | O_CLOEXEC}
     * @return the new fd
     * @throws LinuxException e.g. {@code open(/dev/loop9): ENOENT (No such file or directory)}
     */
    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /**
     * {@code open(2)}.
     *
     * @param mode permission bits for a file created with {@link #O_CREAT}, e.g. {@code 0644}
     * @return the new fd
     */
    public static int open(String path, int flags, int mode) {
        return Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.OPENAT, AT_FDCWD, cString(arena, path).address(), flags, mode, 0, 0);
            if (r < 0) {
                throw new LinuxException("open", path, errno(st));
            }
            return r;
        });
    }

    /**
     * {@code dup(2)}: a new fd for the same open file description (without {@code FD_CLOEXEC}).
     *
     * @return the new fd
     */
    public static int dup(int fd) {
        return Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.DUP, fd, 0, 0, 0, 0, 0);
            if (r < 0) {
                throw new LinuxException("dup", "fd " + fd, errno(st));
            }
            return r;
        });
    }

    /** {@code ioctl(fd, request, arg)} with an integer argument; the result (≥ 0). */
    static int ioctl(int fd, long request, long arg, String name, String what) {
        return Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, request, arg, 0, 0, 0);
            if (r < 0) {
                throw new LinuxException("ioctl(" + name + ")", what, errno(st));
            }
            return r;
        });
    }

    /** {@code ioctl(fd, request, ptr)}; the result (≥ 0). */
    static int ioctl(int fd, long request, MemorySegment arg, String name, String what) {
        return Sys.run((arena, st) -> {
            int r = (int) Sys.syscall(st, Syscall.IOCTL, fd, request, arg.address(), 0, 0, 0);
            if (r < 0) {
                throw new LinuxException("ioctl(" + name + ")", what, errno(st));
            }
            return r;
        });
    }

}
