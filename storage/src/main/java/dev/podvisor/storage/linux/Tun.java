package dev.podvisor.storage.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;

/**
 * TUN/TAP devices through {@code /dev/net/tun} ioctls (linux/if_tun.h, x86_64 request numbers).
 *
 * <p>{@code struct ifreq} is 40 bytes: {@code char ifr_name[16]} at 0, {@code short ifr_flags} at 16.
 *
 * <p>The interface is created in the network namespace the {@code /dev/net/tun} file was <em>opened</em>
 * in, i.e. the calling thread's: to make a tap in a pod's namespace, call {@link #open} inside
 * {@link Netns#call}. The returned fd stays usable from any thread and namespace.
 */
public final class Tun {

    /** {@code IFF_TAP}: an Ethernet (layer 2) device. */
    public static final int IFF_TAP = 0x0002;
    /** {@code IFF_NO_PI}: no 4-byte packet-information header on reads and writes. */
    public static final int IFF_NO_PI = 0x1000;
    /** {@code IFF_VNET_HDR}: every frame carries a {@code virtio_net_hdr} (see {@link #vnetHdrSize}). */
    public static final int IFF_VNET_HDR = 0x4000;
    /** {@code IFF_MULTI_QUEUE}: one fd per queue. */
    public static final int IFF_MULTI_QUEUE = 0x0100;

    static final long TUNSETIFF = 0x400454caL;
    static final long TUNSETPERSIST = 0x400454cbL;
    static final long TUNGETIFF = 0x800454d2L;
    static final long TUNGETVNETHDRSZ = 0x800454d7L;
    static final long TUNSETVNETHDRSZ = 0x400454d8L;

    private static final String DEVICE = "/dev/net/tun";
    private static final long IFREQ_SIZE = 40;
    private static final int IFNAMSIZ = 16;

    private Tun() {
    }

    /**
     * Opens {@code /dev/net/tun} ({@code O_RDWR|O_CLOEXEC}) and attaches it to interface {@code name}
     * ({@code TUNSETIFF}), creating the interface in the calling thread's network namespace when it does not
     * exist yet. The interface is not persistent (it disappears with its last fd) until
     * {@link #setPersist}. On failure the fd is closed again.
     *
     * @param name  the interface name, 1–15 bytes; an empty string lets the kernel choose ({@code tapN})
     * @param flags e.g. {@code IFF_TAP | IFF_NO_PI | IFF_VNET_HDR} (Kata's tcfilter tap)
     * @return the attached fd, owned by the caller
     * @throws IllegalArgumentException when {@code name} is longer than 15 bytes
     * @throws LinuxException e.g. {@code ioctl(TUNSETIFF)(tap0_kata, flags 0x5002): EBUSY} when another fd is
     *                        attached to a single-queue device of that name, {@code EINVAL} for an existing
     *                        non-tun interface of that name
     */
    public static int open(String name, int flags) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        if (bytes.length >= IFNAMSIZ) {
            throw new IllegalArgumentException("tap name: longer than 15 bytes: " + name);
        }
        int fd = Linux.open(DEVICE, Linux.O_RDWR | Linux.O_CLOEXEC);
        try {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
                MemorySegment.copy(bytes, 0, ifr, ValueLayout.JAVA_BYTE, 0, bytes.length);
                ifr.set(ValueLayout.JAVA_SHORT, 16, (short) flags);
                Linux.ioctl(fd, TUNSETIFF, ifr, "TUNSETIFF",
                        name + ", flags 0x" + Integer.toHexString(flags));
            }
            return fd;
        } catch (RuntimeException e) {
            Linux.closeQuietly(fd);
            throw e;
        }
    }

    /**
     * {@code TUNSETPERSIST}: a persistent interface survives its last fd (until deleted, e.g. with
     * {@code ip link del}, or until its network namespace goes away).
     *
     * @throws LinuxException e.g. {@code EBADFD} when {@code fd} is not attached to an interface
     */
    public static void setPersist(int fd, boolean persist) {
        Linux.ioctl(fd, TUNSETPERSIST, persist ? 1L : 0L, "TUNSETPERSIST", "fd " + fd + ", " + persist);
    }

    /**
     * {@code TUNGETIFF}: the name of the interface {@code fd} is attached to. (The flags it also reports are
     * not trustworthy: the kernel sets {@code IFF_NO_PI} in them for every tap; read
     * {@code /sys/class/net/<name>/tun_flags} instead.)
     *
     * @throws LinuxException {@code EBADFD} when {@code fd} is not attached
     */
    public static String name(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ifr = arena.allocate(IFREQ_SIZE, 8);
            Linux.ioctl(fd, TUNGETIFF, ifr, "TUNGETIFF", "fd " + fd);
            byte[] raw = ifr.asSlice(0, IFNAMSIZ).toArray(ValueLayout.JAVA_BYTE);
            int end = 0;
            while (end < raw.length && raw[end] != 0) {
                end++;
            }
            return new String(raw, 0, end, StandardCharsets.UTF_8);
        }
    }

    /**
     * {@code TUNGETVNETHDRSZ}: the bytes of {@code virtio_net_hdr} in front of every frame on an
     * {@link #IFF_VNET_HDR} fd; 10 until someone sets it (Cloud Hypervisor sets 12).
     */
    public static int vnetHdrSize(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.JAVA_INT);
            Linux.ioctl(fd, TUNGETVNETHDRSZ, out, "TUNGETVNETHDRSZ", "fd " + fd);
            return out.get(ValueLayout.JAVA_INT, 0);
        }
    }

    /**
     * {@code TUNSETVNETHDRSZ}: sets the header size for every fd of the device's queue (shared by all
     * descriptors of the same open file).
     *
     * @param bytes at least 10 ({@code sizeof(struct virtio_net_hdr)})
     * @throws LinuxException {@code EINVAL} when {@code bytes} is below 10
     */
    public static void setVnetHdrSize(int fd, int bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(ValueLayout.JAVA_INT);
            in.set(ValueLayout.JAVA_INT, 0, bytes);
            Linux.ioctl(fd, TUNSETVNETHDRSZ, in, "TUNSETVNETHDRSZ", "fd " + fd + ", " + bytes);
        }
    }
}
