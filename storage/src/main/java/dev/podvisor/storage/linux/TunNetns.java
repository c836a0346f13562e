package dev.podvisor.storage.linux;

/**
 * {@code TUNGETDEVNETNS} (Linux ≥ 5.2): the network namespace a tun/tap device lives in, from any fd attached
 * to it. A VMM handed a tap fd (Cloud Hypervisor's {@code vm.add-net}) learns with it where to look the device
 * up ({@code ip -d link show} in that namespace tells {@code pi on|off} and {@code vnet_hdr}, which
 * {@code TUNGETIFF}'s flags do not tell reliably).
 */
public final class TunNetns {
    /** {@code _IO('T', 227)}. */
    static final long TUNGETDEVNETNS = 0x54e3L;

    private TunNetns() {
    }

    /**
     * @param tunFd an fd attached to a tun/tap device
     * @return a new fd ({@code O_CLOEXEC}) of the device's network namespace, owned by the caller; usable as
     *         {@code /proc/<pid>/fd/<fd>} with {@link Netns#call} or {@code nsenter --net=}
     * @throws LinuxException e.g. {@code EBADFD} when the fd is not attached, {@code EPERM} without
     *                        {@code CAP_NET_ADMIN} over that namespace, {@code ENOTTY} on kernels before 5.2
     */
    public static int open(int tunFd) {
        return Linux.ioctl(tunFd, TUNGETDEVNETNS, 0L, "TUNGETDEVNETNS", "fd " + tunFd);
    }
}
