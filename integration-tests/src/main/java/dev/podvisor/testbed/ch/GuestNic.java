package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.Netns;
import dev.podvisor.storage.linux.Tun;
import dev.podvisor.testbed.log.TestbedLog;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One virtio-net device as the guest sees it: a tap ({@code IFF_TAP|IFF_NO_PI}, no vnet header, no offloads,
 * not persistent) created in the guest emulator's network namespace under a neutral name ({@code eth<N>}, as
 * a guest kernel with {@code net.ifnames=0} names NICs; the agent renames it on {@code UpdateInterface}),
 * with the NetConfig's MAC and MTU, and a {@link FrameRelay} per direction and host queue. Closing it stops
 * the relays, closes the guest tap fd (the guest tap disappears with it) and the host fds (the host tap
 * stays: it belongs to the client).
 */
final class GuestNic implements AutoCloseable {
    private final String id;
    private final String guestName;
    private final HostTap host;
    private final int guestFd;
    private final TestbedLog log;
    private final List<FrameRelay> relays = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private GuestNic(String id, String guestName, HostTap host, int guestFd, TestbedLog log) {
        this.id = id;
        this.guestName = guestName;
        this.host = host;
        this.guestFd = guestFd;
        this.log = log;
    }

    /**
     * Creates the guest tap and starts relaying. On failure nothing is left (the host fds stay with the
     * caller).
     *
     * @param id         the device id ({@code _net<N>})
     * @param guestNetns the guest's network namespace file ({@code /proc/<pid>/ns/net})
     * @param index      the preferred {@code eth<index>}; the next free index is taken when that name exists
     * @param mac        the guest MAC ({@code NetConfig.mac})
     * @param mtu        the guest MTU ({@code NetConfig.mtu}, else the host tap's)
     * @param host       the host tap
     * @param log        the VM's log ({@code relay-start}, {@code relay-stop})
     * @return the running NIC
     * @throws IOException when the tap cannot be created or configured in the guest namespace
     */
    static GuestNic attach(String id, Path guestNetns, int index, String mac, int mtu, HostTap host, TestbedLog log)
            throws IOException {
        int fd = -1;
        String name = null;
        LinuxException last = null;
        for (int i = index; i < index + 16 && fd < 0; i++) {
            String candidate = "eth" + i;
            try {
                fd = Netns.call(guestNetns, () -> Tun.open(candidate, Tun.IFF_TAP | Tun.IFF_NO_PI));
                name = candidate;
            } catch (LinuxException e) {
                last = e; // EBUSY / EINVAL: the name is taken in the guest
            } catch (Exception e) {
                throw new IOException("guest NIC " + id + ": " + e.getMessage(), e);
            }
        }
        if (fd < 0) {
            throw new IOException("guest NIC " + id + ": no free eth<N> name from eth" + index + ": "
                    + (last == null ? "" : last.getMessage()));
        }
        try {
            NetnsIp.run(guestNetns, "link", "set", "dev", name, "address", mac, "mtu", Integer.toString(mtu));
        } catch (IOException e) {
            Linux.closeQuietly(fd);
            throw new IOException("guest NIC " + id + ": " + e.getMessage(), e);
        }
        GuestNic nic = new GuestNic(id, name, host, fd, log);
        nic.start(mac, mtu);
        return nic;
    }

    private void start(String mac, int mtu) {
        for (int i = 0; i < host.fds().length; i++) {
            FrameRelay in = FrameRelay.hostToGuest(host.fds()[i], guestFd, host.vnetHdr());
            relays.add(in);
            threads.add(Thread.ofPlatform().daemon().name("ch-net-" + id + "-rx" + i).start(in));
        }
        FrameRelay out = FrameRelay.guestToHost(guestFd, host.fds()[0], host.vnetHdr());
        relays.add(out);
        threads.add(Thread.ofPlatform().daemon().name("ch-net-" + id + "-tx").start(out));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", id);
        f.put("hostTap", host.name());
        f.put("queues", host.fds().length);
        f.put("vnetHdrSize", host.vnetHdr());
        f.put("guestTap", guestName);
        f.put("mac", mac);
        f.put("mtu", mtu);
        f.put("threads", threads.size());
        log.log("ch", "relay-start", f);
    }

    /** @return the device id */
    String id() {
        return id;
    }

    /** @return the guest tap's first name ({@code eth<N>}) */
    String guestName() {
        return guestName;
    }

    /** Stops the relays (waits for their threads), closes the guest tap fd and the host fds; logs counters. */
    @Override
    public void close() {
        relays.forEach(FrameRelay::stop);
        for (Thread t : threads) {
            try {
                t.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Linux.closeQuietly(guestFd);
        host.close();
        long toGuest = 0;
        long toHost = 0;
        long dropped = 0;
        for (int i = 0; i < relays.size(); i++) {
            FrameRelay r = relays.get(i);
            if (i < relays.size() - 1) {
                toGuest += r.frames();
            } else {
                toHost += r.frames();
            }
            dropped += r.dropped();
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("id", id);
        f.put("guestTap", guestName);
        f.put("framesToGuest", toGuest);
        f.put("framesToHost", toHost);
        f.put("dropped", dropped);
        f.put("threadsAlive", threads.stream().filter(Thread::isAlive).count());
        log.log("ch", "relay-stop", f);
    }
}
