package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.UnixSockets;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One direction of a guest NIC's frame relay, on its own platform thread: every {@code read(2)} of a tap fd
 * is one frame, written as one frame to the other tap fd. Host to guest drops the first {@code vnetHdr}
 * bytes (the {@code virtio_net_hdr} of the host fd); guest to host puts {@code vnetHdr} zero bytes in front
 * (flags 0, {@code GSO_NONE}: the taps have no offloads, so the kernel hands over whole, checksummed frames).
 *
 * <p>Reads wait in {@code poll(2)} (the client may have set {@code O_NONBLOCK} on the shared file, as real
 * Cloud Hypervisor does); {@code EAGAIN}, {@code EIO} (interface down), {@code ENOBUFS}, {@code EINVAL} (too
 * large) and every other error but {@code EBADF} drop the frame (counted) and the relay goes on; {@code EBADF},
 * an invalid fd ({@code POLLNVAL}), a detached tap ({@code POLLERR}: its device went with its namespace) or
 * {@link #stop()} end it. The buffer holds {@code vnetHdr + 65535} bytes,
 * the largest frame a tap without GSO hands out.
 */
final class FrameRelay implements Runnable {
    private static final int POLLNVAL = 0x020;
    private static final int POLL_MS = 100;

    private final int from;
    private final int to;
    private final int strip;
    private final int prepend;
    private final AtomicLong frames = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean stopped;

    private FrameRelay(int from, int to, int strip, int prepend) {
        this.from = from;
        this.to = to;
        this.strip = strip;
        this.prepend = prepend;
    }

    /** @return a relay from a host queue fd to the guest tap, dropping {@code vnetHdr} bytes of each frame */
    static FrameRelay hostToGuest(int hostFd, int guestFd, int vnetHdr) {
        return new FrameRelay(hostFd, guestFd, vnetHdr, 0);
    }

    /** @return a relay from the guest tap to a host queue fd, adding {@code vnetHdr} zero bytes to each frame */
    static FrameRelay guestToHost(int guestFd, int hostFd, int vnetHdr) {
        return new FrameRelay(guestFd, hostFd, 0, vnetHdr);
    }

    /** Asks the relay to end; it does within {@value #POLL_MS} ms. */
    void stop() {
        stopped = true;
    }

    /** @return frames relayed */
    long frames() {
        return frames.get();
    }

    /** @return payload bytes relayed (without vnet headers) */
    long bytes() {
        return bytes.get();
    }

    /** @return frames dropped */
    long dropped() {
        return dropped.get();
    }

    @Override
    public void run() {
        byte[] buf = new byte[prepend + strip + 65535 + 64];
        while (!stopped) {
            int revents;
            try {
                revents = UnixSockets.poll(from, UnixSockets.POLLIN, POLL_MS);
            } catch (LinuxException e) {
                return;
            }
            if ((revents & UnixSockets.POLLIN) == 0
                    && (revents & (POLLNVAL | UnixSockets.POLLERR | UnixSockets.POLLHUP)) != 0) {
                return; // the fd was closed, or its tap device is gone (its namespace died)
            }
            if ((revents & UnixSockets.POLLIN) == 0) {
                continue;
            }
            int n;
            try {
                n = Linux.read(from, buf, prepend, buf.length - prepend);
            } catch (LinuxException e) {
                if (e.errno() == Linux.EBADF) {
                    return;
                }
                dropped.incrementAndGet(); // EAGAIN after a spurious wake-up, ENOBUFS, ...
                continue;
            }
            if (n <= strip) {
                if (n >= 0) {
                    dropped.incrementAndGet();
                }
                continue; // -1: EIO (interface down) or end of file, which a tap fd never reports otherwise
            }
            try {
                Linux.writeFully(to, buf, strip, prepend + n - strip);
                frames.incrementAndGet();
                bytes.addAndGet(n - strip);
            } catch (LinuxException e) {
                if (e.errno() == Linux.EBADF) {
                    return;
                }
                dropped.incrementAndGet(); // EIO: the other tap is down; EAGAIN, ENOBUFS, EINVAL
            }
        }
    }
}
