package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.Tun;
import dev.podvisor.storage.linux.TunNetns;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The host side of one virtio-net device: the tap queue fds a client passed with {@code vm.add-net}
 * ({@code SCM_RIGHTS}), and what the stand-in learnt from them: the tap's name ({@code TUNGETIFF}), its
 * network namespace ({@code TUNGETDEVNETNS}), its MTU and flags ({@code ip -d link show} in that namespace)
 * and the vnet header size of the fds ({@code TUNGETVNETHDRSZ}: 10 unless someone set it; Cloud Hypervisor
 * sets 12). Owns the fds and the namespace fd until {@link #close()}.
 *
 * @param fds      the queue fds, one per queue pair
 * @param name     the tap's name in its namespace
 * @param netnsFd  an fd of the tap's network namespace
 * @param mtu      the tap's MTU
 * @param vnetHdr  bytes of {@code virtio_net_hdr} in front of each frame on these fds
 */
record HostTap(int[] fds, String name, int netnsFd, int mtu, int vnetHdr) implements AutoCloseable {

    /** @return {@code /proc/<this pid>/fd/<netnsFd>}, usable by child processes */
    Path netns() {
        return Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "fd", Integer.toString(netnsFd));
    }

    /**
     * Inspects the fds; on any failure closes them all.
     *
     * @param fds  the received fds (at least one)
     * @return the host tap
     * @throws IllegalArgumentException naming the tap and the problem: not a tap fd, a tap with packet
     *                                  information on ({@code IFF_NO_PI} unset) or without a vnet header
     *                                  ({@code IFF_VNET_HDR} unset), which a virtio-net backend cannot carry
     */
    static HostTap inspect(int[] fds) {
        int ns = -1;
        try {
            String name;
            try {
                name = Tun.name(fds[0]);
                ns = TunNetns.open(fds[0]);
            } catch (LinuxException e) {
                throw new IllegalArgumentException("the fd passed is not a tap queue fd: " + e.getMessage(), e);
            }
            for (int i = 1; i < fds.length; i++) {
                if (!Tun.name(fds[i]).equals(name)) {
                    throw new IllegalArgumentException("the fds passed belong to different taps (" + name + ", "
                            + Tun.name(fds[i]) + ")");
                }
            }
            Path nsPath = Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "fd", Integer.toString(ns));
            JsonNode link = Vm.JSON.readTree(NetnsIp.run(nsPath, "-j", "-d", "link", "show", "dev", name)).get(0);
            JsonNode data = link.path("linkinfo").path("info_data");
            if (!"tap".equals(data.path("type").asText())) {
                throw new IllegalArgumentException("tap " + name + ": is a " + data.path("type").asText("?")
                        + " device, not a tap (IFF_TAP)");
            }
            if (data.path("pi").asBoolean(true)) {
                throw new IllegalArgumentException("tap " + name + ": packet information is on (created without "
                        + "IFF_NO_PI); Cloud Hypervisor re-attaches with IFF_NO_PI, which an attached fd keeps: "
                        + "open the tap with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR");
            }
            if (!data.path("vnet_hdr").asBoolean(false)) {
                throw new IllegalArgumentException("tap " + name + ": has no vnet header (IFF_VNET_HDR unset); a "
                        + "virtio-net backend needs it: open the tap with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR");
            }
            int hdr = Tun.vnetHdrSize(fds[0]);
            return new HostTap(fds.clone(), name, ns, link.path("mtu").asInt(1500), hdr);
        } catch (IOException | RuntimeException e) {
            Linux.closeQuietly(ns);
            for (int fd : fds) {
                Linux.closeQuietly(fd);
            }
            if (e instanceof IllegalArgumentException iae) {
                throw iae;
            }
            throw new IllegalArgumentException("cannot inspect the tap fd: " + e.getMessage(), e);
        }
    }

    /** Closes the queue fds and the namespace fd (the tap itself stays: it belongs to the client). */
    @Override
    public void close() {
        for (int fd : fds) {
            Linux.closeQuietly(fd);
        }
        Linux.closeQuietly(netnsFd);
    }
}
