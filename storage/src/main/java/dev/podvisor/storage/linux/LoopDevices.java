package dev.podvisor.storage.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Loop devices: a regular file (a disk image) presented as a block device {@code /dev/loopN}, via
 * {@code /dev/loop-control} {@code LOOP_CTL_GET_FREE} and {@code LOOP_CONFIGURE} (Linux ≥ 5.8), falling back
 * to {@code LOOP_SET_FD} + {@code LOOP_SET_STATUS64} on older kernels. Thread-safe; a device grabbed by
 * another process between {@code LOOP_CTL_GET_FREE} and the configure call ({@code EBUSY}) is skipped.
 *
 * <p>About {@code LO_FLAGS_AUTOCLEAR}: the kernel detaches an auto-clearing loop device as soon as its last
 * opener closes it — including the opener that configured it. A device handed out by path alone would thus
 * vanish before anyone could use it, so {@link #attach} does <em>not</em> set it (the device stays until
 * {@link #detach}), and {@link #open} sets it and keeps the device open in the returned {@link LoopDevice}
 * until the caller has handed the path to its user (a mount, a hypervisor); once all of them close it, the
 * kernel detaches it by itself, also after a crash.
 *
 * <p>Struct layouts assumed (x86_64, linux/loop.h): {@code struct loop_info64} 232 bytes with
 * {@code lo_flags u32 @52} and {@code lo_file_name[64] @56}; {@code struct loop_config} 304 bytes:
 * {@code fd u32 @0}, {@code block_size u32 @4}, {@code info @8}, {@code __reserved[8] u64 @240}.
 */
public final class LoopDevices {

    private LoopDevices() {
    }

    /** The loop control device. */
    public static final String LOOP_CONTROL = "/dev/loop-control";

    static final long LOOP_SET_FD = 0x4C00L;
    static final long LOOP_CLR_FD = 0x4C01L;
    static final long LOOP_SET_STATUS64 = 0x4C04L;
    static final long LOOP_CONFIGURE = 0x4C0AL;
    static final long LOOP_CTL_GET_FREE = 0x4C82L;
    /** The device is read-only. */
    public static final int LO_FLAGS_READ_ONLY = 1;
    /** Detach when the last opener closes the device. */
    public static final int LO_FLAGS_AUTOCLEAR = 4;

    private static final long LOOP_INFO64_SIZE = 232;
    private static final long LOOP_CONFIG_SIZE = 304;
    private static final long INFO_FLAGS = 52;
    private static final long INFO_FILE_NAME = 56;
    private static final int MAX_ATTEMPTS = 16;

    /**
     * A loop device set up with {@code LO_FLAGS_AUTOCLEAR}, kept open by this object. Close it once the
     * device's user (a mount, a hypervisor) has opened it; the kernel detaches the device when the last
     * user closes it. Closing it while nobody else has the device open detaches it at once.
     *
     * @param device the device node, e.g. {@code /dev/loop3}
     * @param fd     an open fd on {@code device}
     */
    public record LoopDevice(String device, int fd) implements AutoCloseable {
        /** Closes the fd held on the device. */
        @Override
        public void close() {
            Linux.closeQuietly(fd);
        }
    }

    /**
     * Attaches {@code file} to a free loop device, without auto-clear: the device stays bound until
     * {@link #detach}. {@code readOnly} opens the file {@code O_RDONLY} and sets {@code LO_FLAGS_READ_ONLY},
     * so {@code BLKROGET} on the device reports read-only.
     *
     * <p>Leaves behind: the bound device {@code /dev/loopN}; undo with {@link #detach}.
     *
     * @return the device node, e.g. {@code /dev/loop3}
     * @throws LinuxException e.g. {@code open(/img): ENOENT}, or when no device could be bound
     */
    public static String attach(Path file, boolean readOnly) {
        LoopDevice held = configure(file, readOnly, false);
        held.close();
        return held.device();
    }

    /**
     * Attaches {@code file} to a free loop device with {@code LO_FLAGS_AUTOCLEAR} and returns it still open
     * (see the class description). Leaves behind: the bound device, until its last opener closes it.
     *
     * @throws LinuxException as {@link #attach}
     */
    public static LoopDevice open(Path file, boolean readOnly) {
        return configure(file, readOnly, true);
    }

    /**
     * Detaches the loop device {@code device} ({@code LOOP_CLR_FD}). When the device is still in use (e.g.
     * mounted), the kernel marks it auto-clear and detaches it once the last user closes it. No error when
     * the device is not bound ({@code ENXIO}).
     *
     * @throws LinuxException when {@code device} cannot be opened or is not a loop device
     */
    public static void detach(String device) {
        int fd = Linux.open(device, Linux.O_RDONLY | Linux.O_CLOEXEC);
        try {
            Linux.ioctl(fd, LOOP_CLR_FD, 0L, "LOOP_CLR_FD", device);
        } catch (LinuxException e) {
            if (e.errno() != Linux.ENXIO) {
                throw e;
            }
        } finally {
            Linux.closeQuietly(fd);
        }
    }

    private static LoopDevice configure(Path file, boolean readOnly, boolean autoClear) {
        String path = file.toAbsolutePath().toString();
        int backing = Linux.open(path, (readOnly ? Linux.O_RDONLY : Linux.O_RDWR) | Linux.O_CLOEXEC);
        try {
            int control = Linux.open(LOOP_CONTROL, Linux.O_RDWR | Linux.O_CLOEXEC);
            try {
                LinuxException last = null;
                for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                    int number = Linux.ioctl(control, LOOP_CTL_GET_FREE, 0L, "LOOP_CTL_GET_FREE", LOOP_CONTROL);
                    String device = "/dev/loop" + number;
                    int fd = Linux.open(device, Linux.O_RDWR | Linux.O_CLOEXEC);
                    try {
                        bind(fd, backing, device, path, readOnly, autoClear);
                        return new LoopDevice(device, fd);
                    } catch (LinuxException e) {
                        Linux.closeQuietly(fd);
                        if (e.errno() != Linux.EBUSY) {
                            throw e;
                        }
                        last = e; // taken by someone else meanwhile: try the next free one
                    }
                }
                throw last;
            } finally {
                Linux.closeQuietly(control);
            }
        } finally {
            Linux.closeQuietly(backing); // the loop device holds its own reference to the file
        }
    }

    private static void bind(int fd, int backing, String device, String path, boolean readOnly, boolean autoClear) {
        int flags = (readOnly ? LO_FLAGS_READ_ONLY : 0) | (autoClear ? LO_FLAGS_AUTOCLEAR : 0);
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        int nameLength = Math.min(name.length, 63);
        String what = device + " ← " + path;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment config = arena.allocate(LOOP_CONFIG_SIZE, 8);
            config.set(ValueLayout.JAVA_INT, 0, backing);
            MemorySegment info = config.asSlice(8, LOOP_INFO64_SIZE);
            info.set(ValueLayout.JAVA_INT, INFO_FLAGS, flags);
            MemorySegment.copy(name, 0, info, ValueLayout.JAVA_BYTE, INFO_FILE_NAME, nameLength);
            try {
                Linux.ioctl(fd, LOOP_CONFIGURE, config, "LOOP_CONFIGURE", what);
                return;
            } catch (LinuxException e) {
                if (e.errno() != Linux.EINVAL && e.errno() != Linux.ENOTTY) {
                    throw e;
                }
            }
            // kernels before 5.8: bind, then set the flags
            Linux.ioctl(fd, LOOP_SET_FD, backing, "LOOP_SET_FD", what);
            try {
                Linux.ioctl(fd, LOOP_SET_STATUS64, info, "LOOP_SET_STATUS64", what);
            } catch (LinuxException e) {
                try {
                    Linux.ioctl(fd, LOOP_CLR_FD, 0L, "LOOP_CLR_FD", what);
                } catch (LinuxException undo) {
                    e.addSuppressed(undo);
                }
                throw e;
            }
        }
    }
}
