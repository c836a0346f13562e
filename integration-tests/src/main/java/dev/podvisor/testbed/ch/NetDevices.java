package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.Netns;
import dev.podvisor.testbed.log.TestbedLog;

import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The VM's virtio-net devices: validates {@code vm.add-net} as Cloud Hypervisor does ({@code NetConfig::validate}
 * in {@code vmm/src/config.rs}: {@code num_queues >= 2}, fds × 2 == {@code num_queues},
 * {@code num_queues / 2 <= boot_vcpus}, MTU ≥ 1280), keeps the tap fds of nets added before boot with their
 * config entry, and turns every net into a {@link GuestNic} once the guest process exists (at boot, before the
 * guest is told to boot; or at once for a net added to a running guest).
 *
 * <p>Testbed limits (500, naming the rule): a net must come with its tap fds ({@code SCM_RIGHTS}, as both Kata
 * runtimes send them); a {@code tap} name (CH would open or create that tap in its own namespace), a net with
 * neither (CH would create {@code vmtapN}) and {@code vhost_user} nets are refused.
 *
 * <p>Thread-safe: API calls come under the VMM lock, the guest start on the starter thread.
 */
final class NetDevices {
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Planned(String id, ObjectNode cfg, HostTap tap, int index) {
    }

    private final TestbedLog log;
    private final Map<JsonNode, HostTap> cold = new IdentityHashMap<>();
    private final List<Planned> planned = new ArrayList<>();
    private final Map<String, GuestNic> running = new LinkedHashMap<>();
    private Path guestNetns;
    private int nextIndex;

    NetDevices(TestbedLog log) {
        this.log = log;
    }

    /**
     * Checks one NetConfig of {@code vm.add-net} with the fds that came with the request, and inspects the tap.
     * The body's own {@code fds} numbers are dropped (CH deserialises them as -1 and ignores them). On any
     * error every fd is closed.
     *
     * @param cfg       the NetConfig, schema-checked
     * @param fds       the fds received with the request (owned from here on)
     * @param bootVcpus {@code cpus.boot_vcpus} of the VM
     * @param what      outer error message
     * @return the inspected host tap
     * @throws ApiError 400 on a CH validation rule, 500 on a testbed limit or a tap that cannot carry frames
     */
    HostTap accept(ObjectNode cfg, int[] fds, long bootVcpus, String what) throws ApiError {
        cfg.remove("fds");
        try {
            long queues = cfg.get("num_queues").asLong();
            if (queues < 2) {
                throw invalid(what, "Number of queues to virtio_net less than 2 (num_queues " + queues + ")");
            }
            if (fds.length > 0 && fds.length * 2L != queues) {
                throw invalid(what, "Number of queues to virtio_net does not match the number of input FDs"
                        + " (num_queues " + queues + ", " + fds.length + " fds)");
            }
            if (queues / 2 > bootVcpus) {
                throw invalid(what, "Number of vCPUs is insufficient for number of queues (num_queues " + queues
                        + ", boot_vcpus " + bootVcpus + ")");
            }
            if (cfg.hasNonNull("mtu") && cfg.get("mtu").asInt() < 1280) {
                throw invalid(what, "Provided MTU " + cfg.get("mtu").asInt()
                        + " is lower than 1280 (expected by VIRTIO specification)");
            }
            if (cfg.get("vhost_user").asBoolean()) {
                throw ApiError.of(500, "Error from API", what, "net: vhost_user nets are not supported by the "
                        + "testbed (it has no vhost-user net backend); pass the tap fds with SCM_RIGHTS");
            }
            if (cfg.hasNonNull("tap") || fds.length == 0) {
                throw ApiError.of(500, "Error from API", what, "net: the testbed attaches only taps whose queue "
                        + "fds come with the request (SCM_RIGHTS, one fd per queue pair, as Kata sends them); "
                        + (cfg.hasNonNull("tap") ? "a 'tap' name (" + cfg.get("tap").asText() + ")"
                        : "a net without fds (CH would create vmtapN)") + " is not supported");
            }
        } catch (ApiError e) {
            for (int fd : fds) {
                Linux.closeQuietly(fd);
            }
            throw e;
        }
        HostTap tap;
        try {
            tap = HostTap.inspect(fds);
        } catch (IllegalArgumentException e) {
            throw ApiError.of(500, "Error from API", what, "Cannot create virtio-net device", e.getMessage());
        }
        if (!cfg.hasNonNull("mac")) {
            cfg.put("mac", randomMac());
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("config", cfg.deepCopy());
        f.put("fds", fds.length);
        f.put("hostTap", tap.name());
        f.put("hostMtu", tap.mtu());
        f.put("vnetHdrSize", tap.vnetHdr());
        log.log("ch", "net-add", f);
        return tap;
    }

    private static ApiError invalid(String what, String detail) {
        return ApiError.of(400, "Error from API", what, "Error validating VM configuration", detail);
    }

    /** Keeps the host tap of a net added before boot with its config entry. */
    synchronized void addCold(JsonNode entry, HostTap tap) {
        cold.put(entry, tap);
    }

    /** Closes the host tap of a config entry removed before boot (no-op for others). */
    synchronized void dropCold(JsonNode entry) {
        HostTap tap = cold.remove(entry);
        if (tap != null) {
            tap.close();
        }
    }

    /**
     * At boot: every net of the config (ids assigned) must have its tap fds; they become planned NICs,
     * attached by {@link #guestStarted}.
     *
     * @param nets the config's {@code net} entries in order
     * @param what outer error message
     * @throws ApiError 500 for a net without fds (a {@code vm.create} net, whose fds CH drops)
     */
    synchronized void planBoot(Iterable<JsonNode> nets, String what) throws ApiError {
        for (JsonNode n : nets) {
            if (!cold.containsKey(n)) {
                throw ApiError.of(500, "Error from API", what, "Cannot create virtio-net device",
                        "net " + n.path("id").asText() + ": no tap fds (vm.create takes no fds, as in Cloud "
                                + "Hypervisor; add nets with vm.add-net and SCM_RIGHTS before vm.boot)");
            }
        }
        for (JsonNode n : nets) {
            planned.add(new Planned(n.get("id").asText(), (ObjectNode) n, cold.remove(n), nextIndex++));
        }
    }

    /**
     * The guest process exists: remembers its network namespace and attaches every planned NIC there.
     *
     * @param pid the guest emulator's pid
     * @throws IOException when the guest shares this process's network namespace or a NIC cannot be made
     */
    synchronized void guestStarted(long pid) throws IOException {
        Path ns = Path.of("/proc", Long.toString(pid), "ns", "net");
        guestNetns = ns;
        List<Planned> todo = new ArrayList<>(planned);
        planned.clear();
        for (int i = 0; i < todo.size(); i++) {
            try {
                attach(todo.get(i));
            } catch (IOException e) {
                for (int j = i + 1; j < todo.size(); j++) {
                    todo.get(j).tap().close();
                }
                throw e;
            }
        }
    }

    private void attach(Planned p) throws IOException {
        if (Netns.id(guestNetns).equals(Netns.id(Path.of("/proc/self/ns/net")))) {
            p.tap().close();
            throw new IOException("guest NIC " + p.id() + ": the guest emulator shares the VMM's network namespace;"
                    + " its NICs need its own (unshare --net)");
        }
        int mtu = p.cfg().hasNonNull("mtu") ? p.cfg().get("mtu").asInt() : p.tap().mtu();
        try {
            running.put(p.id(), GuestNic.attach(p.id(), guestNetns, p.index(), p.cfg().get("mac").asText(), mtu,
                    p.tap(), log));
        } catch (IOException | RuntimeException e) {
            p.tap().close();
            throw e;
        }
    }

    /**
     * A net added to a booted VM: attached at once when the guest process exists, else with the others when
     * it starts.
     *
     * @throws ApiError 500 when the guest NIC cannot be made (the tap fds are closed)
     */
    synchronized void hotAdd(String id, ObjectNode cfg, HostTap tap, String what) throws ApiError {
        Planned p = new Planned(id, cfg, tap, nextIndex++);
        if (guestNetns == null) {
            planned.add(p);
            return;
        }
        try {
            attach(p);
        } catch (IOException | RuntimeException e) {
            throw ApiError.of(500, "Error from API", what, "Cannot create virtio-net device", String.valueOf(e.getMessage()));
        }
    }

    /** {@code vm.remove-device} of a net: stops its relay, closes its fds, removes its guest tap. */
    synchronized void remove(String id) {
        GuestNic nic = running.remove(id);
        if (nic != null) {
            nic.close();
        }
        planned.removeIf(p -> {
            if (p.id().equals(id)) {
                p.tap().close();
                return true;
            }
            return false;
        });
    }

    /** The VM stops: every relay stopped, every fd closed, every guest tap removed. */
    synchronized void closeRunning() {
        running.values().forEach(GuestNic::close);
        running.clear();
        planned.forEach(p -> p.tap().close());
        planned.clear();
        guestNetns = null;
        nextIndex = 0;
    }

    /** The VM is deleted: also the fds of nets added before boot. */
    synchronized void closeAll() {
        closeRunning();
        cold.values().forEach(HostTap::close);
        cold.clear();
    }

    /** @return a random locally administered unicast MAC, as CH picks when {@code mac} is absent */
    private static String randomMac() {
        byte[] b = new byte[6];
        RANDOM.nextBytes(b);
        b[0] = (byte) ((b[0] & 0xfe) | 0x02);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append(i == 0 ? "" : ":").append(String.format("%02x", b[i] & 0xff));
        }
        return sb.toString();
    }
}
