package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.protocols.agent.Interfaces;
import dev.podvisor.protocols.agent.ListInterfacesRequest;
import dev.podvisor.protocols.agent.Routes;
import dev.podvisor.protocols.agent.UpdateInterfaceRequest;
import dev.podvisor.protocols.agent.UpdateRoutesRequest;
import dev.podvisor.protocols.agent.types.IPAddress;
import dev.podvisor.protocols.agent.types.IPFamily;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real packets through the cloud-hypervisor stand-in and the real guest emulator, driven as Kata's Go
 * runtime drives Cloud Hypervisor with the tcfilter model: a pod netns with a veth on a bridge (in a private
 * "node" netns), a persistent tap with a vnet header mirrored to the veth with u32 redirects, {@code vm.add-net}
 * sent as one {@code sendmsg} with the tap fd on one kept connection, {@code vm.boot}, then the agent's
 * UpdateInterface and UpdateRoutes, an HTTP server in the guest's network namespace and an 8 MiB download
 * from the node side at the pod IP. Then hot-plug and removal of a second NIC, and after {@code vm.shutdown}
 * nothing left: no relay thread, no tap or namespace fd in the stand-in, no guest.
 */
class NetworkThroughStandInTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String AGENT = "grpc.AgentService";

    private Path tmp;
    private Path vmDir;
    private Path api;
    private Process ch;
    private PodNetwork net;
    private final List<Process> others = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        tmp = Files.createTempDirectory("net-standin-");
        vmDir = Files.createDirectory(tmp.resolve("vm"));
        api = vmDir.resolve("clh-api.sock");
        net = PodNetwork.create();
        ProcessBuilder builder = StandIns.builder("cloud-hypervisor", List.of("--api-socket", api.toString()),
                tmp.resolve("ch.out"));
        builder.environment().remove("PODVISOR_TESTBED_GUEST_CMD"); // the real guest emulator
        ch = builder.start();
        StandIns.await("API socket accepts", () -> StandIns.accepts(api), ch, START);
    }

    @AfterEach
    void stop() throws Exception {
        others.forEach(StandIns::kill);
        StandIns.kill(ch);
        net.close();
        PodNetwork.run("rm", "-rf", tmp.toString());
    }

    private static String addNetBody(String mac, int queues) {
        return "{\"ip\":\"192.168.249.1\",\"mask\":\"255.255.255.0\",\"mac\":\"" + mac + "\",\"iommu\":false,"
                + "\"num_queues\":" + queues + ",\"queue_size\":256,\"vhost_user\":false,\"vhost_mode\":\"Client\","
                + "\"offload_tso\":true,\"offload_ufo\":true,\"offload_csum\":true}";
    }

    private List<JsonNode> log(String kind) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(vmDir.resolve("testbed.jsonl"))) {
            JsonNode n = JSON.readTree(l);
            if (kind.equals(n.path("kind").asText())) {
                out.add(n);
            }
        }
        return out;
    }

    /** Threads of the stand-in whose name starts with {@code ch-net-} (the relays), by /proc task comm. */
    private long relayThreads() throws IOException {
        long n = 0;
        try (var tasks = Files.list(Path.of("/proc", Long.toString(ch.pid()), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    n += Files.readString(t.resolve("comm")).startsWith("ch-net-") ? 1 : 0;
                } catch (IOException gone) {
                    // the thread ended meanwhile
                }
            }
        }
        return n;
    }

    /** Open fds of the stand-in on {@code /dev/net/tun} or a network namespace. */
    private long netFds() throws IOException {
        long n = 0;
        try (var fds = Files.list(Path.of("/proc", Long.toString(ch.pid()), "fd"))) {
            for (Path f : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(f).toString();
                    n += target.equals("/dev/net/tun") || target.startsWith("net:[") ? 1 : 0;
                } catch (IOException gone) {
                    // closed meanwhile
                }
            }
        }
        return n;
    }

    @Test
    void aKataGoClientGetsRealPacketsThroughTheGuestNic() throws Exception {
        String mac = net.podMac();
        int tap0 = net.kataTap("tap0_kata", true);
        Path kernel = Files.write(tmp.resolve("vmlinux"), new byte[16]);
        Path vsock = vmDir.resolve("clh.sock");
        try (FdApiClient kata = new FdApiClient(api); ApiClient c = new ApiClient(api)) {
            ApiClient.Reply early = kata.put("vm.add-net", addNetBody(mac, 2), tap0);
            assertEquals(404, early.status(), "add-net before vm.create: " + early.body());
            assertEquals(204, c.call("PUT", "vm.create", "{\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":2},"
                    + "\"memory\":{\"size\":1073741824},\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"vsock\":{\"cid\":3,\"socket\":\"" + vsock + "\"}}").status());
            ApiClient.Reply mismatch = kata.put("vm.add-net", addNetBody(mac, 4), tap0);
            assertEquals(400, mismatch.status(), "one fd for 4 queues: " + mismatch.body());
            assertTrue(mismatch.body().contains("does not match the number of input FDs"), mismatch.body());
            int piTap = net.tapWithPi("tappi");
            ApiClient.Reply pi = kata.put("vm.add-net", addNetBody("02:00:00:00:00:99", 2), piTap);
            assertEquals(500, pi.status(), pi.body());
            assertTrue(pi.body().contains("tappi: packet information is on"), pi.body());
            ApiClient.Reply cold = kata.put("vm.add-net", addNetBody(mac, 2), tap0);
            assertEquals(204, cold.status(), "cold add between create and boot: " + cold.body());
            assertEquals("", cold.body());
            ApiClient.Reply boot = c.call("PUT", "vm.boot", null);
            assertEquals(204, boot.status(), boot.body());
            JsonNode info = JSON.readTree(c.call("GET", "vm.info", null).body());
            assertEquals("_net0", info.get("config").get("net").get(0).get("id").asText());
            assertEquals(mac, info.get("config").get("net").get(0).get("mac").asText());
            assertTrue(info.get("device_tree").has("_virtio-pci-_net0"));

            try (TtrpcClient agent = TtrpcClient.over(StandIns.dialAgent(vsock, ch, vmDir.resolve("guest.log")))) {
                JsonNode added = log("net-add").getFirst();
                assertEquals(1, added.get("fds").asInt());
                assertEquals(10, added.get("vnetHdrSize").asInt(), "Kata Go leaves the kernel default: read, not assumed");
                assertEquals("tap0_kata", added.get("hostTap").asText());
                JsonNode relay = log("relay-start").getFirst();
                assertEquals(PodNetwork.MTU, relay.get("mtu").asInt(), "guest MTU = the host tap's");
                assertEquals("eth0", relay.get("guestTap").asText());

                TtrpcException absent = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "UpdateInterface",
                        UpdateInterfaceRequest.newBuilder().setInterface(Interface.newBuilder().setName("net9")
                                .setHwAddr("02:00:00:00:00:42")).build(), Interface.parser(), TIMEOUT));
                assertTrue(absent.getMessage().contains("Link not found"), absent.getMessage());
                Interface eth0 = Interface.newBuilder().setDevice("eth0").setName("eth0").setHwAddr(mac)
                        .setMtu(PodNetwork.MTU).setType("veth").addIPAddresses(IPAddress.newBuilder()
                                .setFamily(IPFamily.v4).setAddress(PodNetwork.POD_IP).setMask("24")).build();
                assertEquals(eth0, agent.call(AGENT, "UpdateInterface",
                        UpdateInterfaceRequest.newBuilder().setInterface(eth0).build(), Interface.parser(), TIMEOUT));
                Routes routes = agent.call(AGENT, "UpdateRoutes", UpdateRoutesRequest.newBuilder().setRoutes(
                        Routes.newBuilder().addRoutes(Route.newBuilder().setGateway(PodNetwork.GATEWAY)
                                .setDevice("eth0").setFamily(IPFamily.v4))).build(), Routes.parser(), TIMEOUT);
                assertTrue(routes.getRoutesList().stream().anyMatch(r -> r.getDest().isEmpty()
                        && r.getGateway().equals(PodNetwork.GATEWAY) && r.getDevice().equals("eth0")), routes.toString());

                long guestPid = log("guest-started").getFirst().get("pid").asLong();
                Path www = Files.createDirectory(tmp.resolve("www"));
                byte[] blob = new byte[8 << 20];
                new Random(42).nextBytes(blob);
                Files.write(www.resolve("blob"), blob);
                Process httpd = new ProcessBuilder("nsenter", "--net=/proc/" + guestPid + "/ns/net", "busybox",
                        "httpd", "-f", "-p", PodNetwork.POD_IP + ":8080", "-h", www.toString())
                        .redirectErrorStream(true).redirectOutput(tmp.resolve("httpd.out").toFile()).start();
                others.add(httpd);
                Path got = tmp.resolve("got");
                String[] lastError = {""};
                try {
                    StandIns.await("HTTP from the node side at the pod IP", () -> {
                        try {
                            PodNetwork.run("ip", "netns", "exec", net.node, "python3", "-c",
                                    "import sys,urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])",
                                    "http://" + PodNetwork.POD_IP + ":8080/blob", got.toString());
                            return true;
                        } catch (IOException notYet) {
                            lastError[0] = notYet.getMessage();
                            return false;
                        }
                    }, httpd, START);
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; last: " + lastError[0] + "; guest links: "
                            + PodNetwork.run("nsenter", "--net=/proc/" + guestPid + "/ns/net", "ip", "-s", "addr")
                            + "; log: " + log("relay-start") + log("guest-started"), e);
                }
                assertEquals(-1, Files.mismatch(www.resolve("blob"), got), "8 MiB arrive byte for byte");
                String filters = PodNetwork.run("tc", "-n", net.pod, "-s", "filter", "show", "dev", "eth0", "ingress");
                assertTrue(filters.contains("mirred") && filters.contains("tap0_kata"), filters);

                int tap1 = net.kataTap("tap1_kata", false);
                ApiClient.Reply hot = kata.put("vm.add-net", addNetBody("02:00:00:00:01:01", 2), tap1);
                assertEquals(200, hot.status(), hot.body());
                JsonNode pci = JSON.readTree(hot.body());
                assertEquals("_net2", pci.get("id").asText(), "CH's shared id counter (_net0, __rng, _vsock1)");
                assertTrue(pci.get("bdf").asText().matches("0000:00:0[0-9a-f]\\.0"), hot.body());
                Interfaces links = agent.call(AGENT, "ListInterfaces", ListInterfacesRequest.getDefaultInstance(),
                        Interfaces.parser(), TIMEOUT);
                assertTrue(links.getInterfacesList().stream().anyMatch(i -> i.getHwAddr().equals("02:00:00:00:01:01")
                        && i.getName().equals("eth1")), links.toString());
                assertTrue(links.getInterfacesList().stream().anyMatch(i -> i.getHwAddr().equals(mac)
                        && i.getMtu() == PodNetwork.MTU && i.getIPAddressesList().stream()
                        .anyMatch(a -> a.getAddress().equals(PodNetwork.POD_IP))), links.toString());
                long before = netFds();
                assertEquals(204, c.call("PUT", "vm.remove-device", "{\"id\":\"_net2\"}").status());
                assertEquals(before - 3, netFds(), "the hot NIC's host queue fd, its namespace fd and the guest tap fd are closed");
                Interfaces after = agent.call(AGENT, "ListInterfaces", ListInterfacesRequest.getDefaultInstance(),
                        Interfaces.parser(), TIMEOUT);
                assertFalse(after.getInterfacesList().stream().anyMatch(i -> i.getHwAddr().equals("02:00:00:00:01:01")),
                        "the guest tap went with the device: " + after);
                assertTrue(relayThreads() > 0, "eth0's relay still runs");
            }
            assertEquals(204, c.call("PUT", "vm.shutdown", null).status());
            assertEquals(0, relayThreads(), "no relay thread after shutdown");
            assertEquals(0, netFds(), "no tap or namespace fd left in the stand-in");
            assertEquals(log("relay-start").size(), log("relay-stop").size());
            assertTrue(log("relay-stop").stream().allMatch(s -> s.get("threadsAlive").asInt() == 0));
            long guestPid = log("guest-started").getFirst().get("pid").asLong();
            assertFalse(ProcessHandle.of(guestPid).map(ProcessHandle::isAlive).orElse(false), "the guest is gone");
            assertTrue(log("relay-stop").stream().filter(r -> r.get("id").asText().equals("_net0")).findFirst().orElseThrow()
                    .get("framesToHost").asLong() > 5000, "the 8 MiB download went through eth0's relay");
            assertEquals(204, c.call("PUT", "vmm.shutdown", null).status());
        }
        assertTrue(ch.waitFor(30, TimeUnit.SECONDS));
    }
}
