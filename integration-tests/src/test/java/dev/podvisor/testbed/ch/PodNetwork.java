package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.Netns;
import dev.podvisor.storage.linux.Tun;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A private stand-in for a node and one CNI-bridge pod, wired as Kata's tcfilter model does
 * ({@code shared/reference/networking.md} §1.4), all inside two network namespaces with unique names (nothing
 * in the host's own namespace is touched):
 * <pre>
 * node netns: br0 10.77.0.1/24 -- veth0 ==veth== eth0 10.77.0.2/24 (MTU 1400), default via .1 :pod netns
 *                                            eth0 &lt;-ingress u32 mirred-&gt; tap0_kata (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR, persistent)
 * </pre>
 * {@link #close()} closes the tap fds it opened and deletes both namespaces (which removes every link made).
 */
final class PodNetwork implements AutoCloseable {
    static final String POD_IP = "10.77.0.2";
    static final String GATEWAY = "10.77.0.1";
    static final int MTU = 1400;

    final String node;
    final String pod;
    private final List<Integer> fds = new ArrayList<>();

    private PodNetwork(String suffix) {
        this.node = "tbn-node-" + suffix;
        this.pod = "tbn-pod-" + suffix;
    }

    /** Builds the namespaces, the bridge, the veth and the pod's eth0. */
    static PodNetwork create() throws IOException {
        PodNetwork n = new PodNetwork(HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(3));
        try {
            run("ip", "netns", "add", n.node);
            run("ip", "netns", "add", n.pod);
            n.ip(n.node, "link", "set", "lo", "up");
            n.ip(n.pod, "link", "set", "lo", "up");
            n.ip(n.node, "link", "add", "br0", "type", "bridge");
            n.ip(n.node, "addr", "add", GATEWAY + "/24", "dev", "br0");
            n.ip(n.node, "link", "set", "br0", "up");
            n.ip(n.node, "link", "add", "veth0", "mtu", Integer.toString(MTU), "type", "veth", "peer", "name", "eth0",
                    "mtu", Integer.toString(MTU), "netns", n.pod);
            n.ip(n.node, "link", "set", "veth0", "master", "br0", "up");
            n.ip(n.pod, "addr", "add", POD_IP + "/24", "dev", "eth0");
            n.ip(n.pod, "link", "set", "eth0", "up");
            n.ip(n.pod, "route", "add", "default", "via", GATEWAY);
            return n;
        } catch (IOException | RuntimeException e) {
            n.close();
            throw e;
        }
    }

    /** @return {@code /run/netns/<pod>} */
    Path podNetns() {
        return Path.of("/run/netns", pod);
    }

    /** @return the MAC of the pod's eth0 (what Kata gives the guest NIC) */
    String podMac() throws IOException {
        return run("ip", "-n", pod, "-br", "link", "show", "dev", "eth0").trim().split("\\s+")[2];
    }

    /**
     * Kata's host side of one endpoint: a persistent tap with a vnet header in the pod netns, opened there,
     * MTU of eth0, up; with {@code mirror}, the two ingress qdiscs and u32 match-all mirred redirects.
     *
     * @return the tap's queue fd (kept open here until {@link #close()})
     */
    int kataTap(String name, boolean mirror) throws Exception {
        int fd = Netns.call(podNetns(), () -> Tun.open(name, Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
        fds.add(fd);
        Tun.setPersist(fd, true);
        ip(pod, "link", "set", name, "mtu", Integer.toString(MTU), "up");
        if (mirror) {
            run("tc", "-n", pod, "qdisc", "add", "dev", name, "ingress");
            run("tc", "-n", pod, "qdisc", "add", "dev", "eth0", "ingress");
            for (String[] pair : List.of(new String[] {"eth0", name}, new String[] {name, "eth0"})) {
                run("tc", "-n", pod, "filter", "add", "dev", pair[0], "parent", "ffff:", "protocol", "all", "u32",
                        "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", pair[1]);
            }
        }
        return fd;
    }

    /** A tap made without IFF_NO_PI (packet information on), which the stand-in must refuse. */
    int tapWithPi(String name) throws Exception {
        int fd = Netns.call(podNetns(), () -> Tun.open(name, Tun.IFF_TAP | Tun.IFF_VNET_HDR));
        fds.add(fd);
        return fd;
    }

    void ip(String ns, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip", "-n", ns));
        argv.addAll(List.of(args));
        run(argv.toArray(String[]::new));
    }

    /** Runs a command to completion; its stdout, or an IOException with its stderr. */
    static String run(String... argv) throws IOException {
        return NetnsIp.exec(List.of(argv));
    }

    @Override
    public void close() {
        fds.forEach(Linux::closeQuietly);
        fds.clear();
        for (String ns : List.of(pod, node)) {
            try {
                run("ip", "netns", "del", ns);
            } catch (IOException ignored) {
                // not created
            }
        }
    }
}
