package dev.podvisor.sandbox.network;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.Tun;
import dev.podvisor.storage.linux.Netns;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Kata's {@code tcfilter} interworking model on the host side (Kata Go {@code network_linux.go
 * xConnectVMNetwork}/{@code setupTCFiltering}), per endpoint, in the pod netns:
 * <ol>
 *   <li>a persistent tap {@code tap<N>_kata} with {@code IFF_TAP|IFF_NO_PI|IFF_VNET_HDR}, opened on a thread
 *       inside the netns ({@link Netns#call}); its fd goes to Cloud Hypervisor with {@code vm.add-net};</li>
 *   <li>the tap gets the veth's MTU and is set up;</li>
 *   <li>an ingress qdisc on the tap, then on the veth (EBUSY retried 5 times, 10 ms × attempt);</li>
 *   <li>u32 {@code match u8 0 0} filters with {@code action mirred egress redirect}: veth → tap, then
 *       tap → veth (matchall is not used: not every kernel has it).</li>
 * </ol>
 * The veth keeps its addresses and stays up; all its ingress is stolen, so the netns's IP stack sees nothing.
 * No {@code /dev/vhost-net} (Cloud Hypervisor never uses vhost fds). Each step is recorded (through the
 * {@code persist} callback) right after it succeeded, and {@link #undo} removes exactly what was recorded.
 */
public final class TcFilterNetwork {

    /** Kata's tap flags for the tcfilter model. */
    public static final int TAP_FLAGS = Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR;
    private static final int QDISC_ATTEMPTS = 5;

    private TcFilterNetwork() {
    }

    /**
     * The wired NICs.
     *
     * @param record what was created (already persisted)
     * @param tapFds per endpoint (same order), the tap fd to hand to Cloud Hypervisor; the caller closes them
     *               once the VM booted
     */
    public record Wired(HostNetwork record, List<Integer> tapFds) {
        public Wired {
            tapFds = List.copyOf(tapFds);
        }
    }

    /**
     * Wires every endpoint. On failure, what this call created is undone (and the fds closed) before the
     * exception propagates.
     *
     * @param persist called with the record after every step (to save it in the sandbox state)
     * @throws NetworkException naming the netns, the interface and the failed command
     */
    public static Wired wire(Path netns, List<Endpoint> endpoints, Consumer<HostNetwork> persist, LogfmtLog log) {
        HostNetwork[] record = {HostNetwork.empty(netns.toString())};
        Consumer<HostNetwork> step = done -> {
            record[0] = done;
            persist.accept(done);
        };
        List<Integer> fds = new ArrayList<>();
        try {
            for (Endpoint endpoint : endpoints) {
                wireOne(netns, endpoint, record[0], fds, step);
                log.info("pod interface wired", "netns", netns, "interface", endpoint.name(), "tap",
                        endpoint.tapName(), "mac", endpoint.mac(), "mtu", endpoint.mtu());
            }
            return new Wired(record[0], fds);
        } catch (RuntimeException e) {
            fds.forEach(Linux::closeQuietly);
            try {
                undo(record[0], log);
                persist.accept(HostNetwork.empty(netns.toString()));
            } catch (RuntimeException undoFailure) {
                e.addSuppressed(undoFailure);
            }
            throw e;
        }
    }

    private static void wireOne(Path netns, Endpoint endpoint, HostNetwork record, List<Integer> fds,
                                Consumer<HostNetwork> persist) {
        String tap = endpoint.tapName();
        String veth = endpoint.name();
        if (NetnsCommand.run(netns, "ip", "link", "show", "dev", tap).ok()) {
            throw new NetworkException("in netns " + netns + ": " + tap + " already exists (not created by this"
                    + " sandbox; left untouched)");
        }
        int fd;
        try {
            fd = Netns.call(netns, () -> {
                int opened = Tun.open(tap, TAP_FLAGS);
                try {
                    Tun.setPersist(opened, true);
                    return opened;
                } catch (RuntimeException e) {
                    Linux.closeQuietly(opened);
                    throw e;
                }
            });
        } catch (RuntimeException e) {
            throw new NetworkException("in netns " + netns + ": creating tap " + tap + " for " + veth + ": "
                    + e.getMessage(), e);
        } catch (Exception e) {
            throw new NetworkException("in netns " + netns + ": creating tap " + tap + ": " + e, e);
        }
        fds.add(fd);
        HostNetwork.Nic nic = new HostNetwork.Nic(veth, tap, true, false);
        record = record.with(nic);
        persist.accept(record);

        NetnsCommand.check(netns, "ip", "link", "set", "dev", tap, "mtu", Integer.toString(endpoint.mtu()), "up");
        addIngressQdisc(netns, tap);
        addIngressQdisc(netns, veth);
        nic = new HostNetwork.Nic(veth, tap, true, true);
        record = record.with(nic);
        persist.accept(record);
        redirect(netns, veth, tap);
        redirect(netns, tap, veth);
    }

    /** {@code tc qdisc add dev X ingress}, retrying EBUSY 5 times with 10 ms × attempt (Kata Go addQdiscIngress). */
    private static void addIngressQdisc(Path netns, String dev) {
        String[] command = {"tc", "qdisc", "add", "dev", dev, "ingress"};
        for (int attempt = 1; ; attempt++) {
            NetnsCommand.Result r = NetnsCommand.run(netns, command);
            if (r.ok()) {
                return;
            }
            if (attempt >= QDISC_ATTEMPTS || !r.stderr().contains("Device or resource busy")) {
                throw NetnsCommand.failure(netns, r, command);
            }
            try {
                Thread.sleep(10L * attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw NetnsCommand.failure(netns, r, command);
            }
        }
    }

    /** Kata's {@code addRedirectTCFilter}: u32 match-all on ingress of {@code from}, mirred redirect to {@code to}. */
    private static void redirect(Path netns, String from, String to) {
        NetnsCommand.check(netns, "tc", "filter", "add", "dev", from, "parent", "ffff:", "protocol", "all",
                "u32", "match", "u8", "0", "0", "action", "mirred", "egress", "redirect", "dev", to);
    }

    /**
     * Removes what {@code record} says Podvisor created: the veth's ingress qdisc (with its filter) and the tap
     * (with its qdisc and filter). Whatever is already gone (e.g. the netns was deleted) is skipped; the veth
     * itself and everything else in the netns are never touched.
     *
     * @throws NetworkException when something recorded exists but cannot be removed (after trying every item)
     */
    public static void undo(HostNetwork record, LogfmtLog log) {
        if (record == null || record.nics().isEmpty()) {
            return;
        }
        Path netns = Path.of(record.netns());
        if (!java.nio.file.Files.exists(netns)) {
            log.info("pod netns already gone; nothing to undo", "netns", netns);
            return;
        }
        List<String> failures = new ArrayList<>();
        for (HostNetwork.Nic nic : record.nics()) {
            if (nic.vethQdisc() && NetnsCommand.run(netns, "tc", "qdisc", "show", "dev", nic.veth(), "ingress")
                    .stdout().contains("ingress")) {
                remove(netns, failures, "tc", "qdisc", "del", "dev", nic.veth(), "ingress");
            }
            if (nic.tapCreated() && NetnsCommand.run(netns, "ip", "link", "show", "dev", nic.tap()).ok()) {
                remove(netns, failures, "ip", "link", "del", "dev", nic.tap());
            }
            log.info("pod interface unwired", "netns", netns, "interface", nic.veth(), "tap", nic.tap());
        }
        if (!failures.isEmpty()) {
            throw new NetworkException(String.join("; ", failures));
        }
    }

    private static void remove(Path netns, List<String> failures, String... command) {
        NetnsCommand.Result r = NetnsCommand.run(netns, command);
        if (!r.ok()) {
            failures.add(NetnsCommand.failure(netns, r, command).getMessage());
        }
    }
}
