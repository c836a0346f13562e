package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cloud-hypervisor stand-in as a real process ({@code bin/cloud-hypervisor}), driven over its API socket
 * with a plain HTTP client, with {@link FakeGuest} as the guest and the virtiofsd stand-in as the virtio-fs
 * backend.
 */
class CloudHypervisorStandInTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Path vmDir;
    private Path api;
    private Process ch;
    private final List<Process> others = new ArrayList<>();

    @BeforeEach
    void startStandIn() throws Exception {
        vmDir = Files.createDirectory(tmp.resolve("vm"));
        api = vmDir.resolve("clh-api.sock");
        ch = StandIns.builder("cloud-hypervisor", List.of("--api-socket", api.toString(), "-v", "--seccomp", "false"),
                tmp.resolve("ch.out")).start();
        StandIns.await("API socket accepts", () -> StandIns.accepts(api), ch, START);
    }

    @AfterEach
    void stopAll() {
        StandIns.kill(ch);
        others.forEach(StandIns::kill);
    }

    private static JsonNode json(String s) throws IOException {
        return JSON.readTree(s);
    }

    private Path file(String name) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, new byte[4096]);
        return f;
    }

    private Process virtiofsd(Path socket, Path shared) throws Exception {
        Process p = StandIns.builder("virtiofsd", List.of("--socket-path", socket.toString(), "--shared-dir",
                shared.toString(), "--cache", "auto", "--thread-pool-size=1", "-o", "announce_submounts", "--xattr"),
                tmp.resolve("virtiofsd.out")).start();
        others.add(p);
        StandIns.await("virtiofsd socket", () -> Files.exists(socket), p, START);
        return p;
    }

    private String vmConfig(Path kernel, Path rootfs, Path vfsSock, boolean shared) {
        return """
                {"cpus":{"boot_vcpus":1,"max_vcpus":4},
                 "memory":{"size":2147483648,"shared":%s,"hotplug_size":1073741824},
                 "payload":{"kernel":"%s","cmdline":"console=hvc0 agent.log=debug"},
                 "disks":[{"path":"%s","readonly":true,"image_type":"Raw"}],
                 "fs":[{"tag":"kataShared","socket":"%s","num_queues":1,"queue_size":1024}],
                 "rng":{"src":"/dev/urandom"},
                 "vsock":{"cid":3,"socket":"%s"},
                 "serial":{"mode":"Off"},"console":{"mode":"Off"},
                 "some_future_field":{"ignored":true}}
                """.formatted(shared, kernel, rootfs, vfsSock, vmDir.resolve("clh.sock"));
    }

    private List<JsonNode> guestEvents() throws IOException {
        Path f = vmDir.resolve("fake-guest.jsonl");
        List<JsonNode> out = new ArrayList<>();
        if (Files.exists(f)) {
            for (String l : Files.readAllLines(f)) {
                out.add(json(l));
            }
        }
        return out;
    }

    private JsonNode awaitGuestEvent(String event, int count) throws Exception {
        StandIns.await("guest event " + event, () -> {
            try {
                return guestEvents().stream().filter(e -> e.get("event").asText().equals(event)).count() >= count;
            } catch (IOException e) {
                return false;
            }
        }, ch, START);
        return guestEvents().stream().filter(e -> e.get("event").asText().equals(event)).skip(count - 1).findFirst().orElseThrow();
    }

    @Test
    void pingRoutingAndMethods() throws Exception {
        try (ApiClient c = new ApiClient(api)) {
            ApiClient.Reply ping = c.call("GET", "vmm.ping", null);
            assertEquals(200, ping.status());
            assertEquals("Cloud Hypervisor API", ping.headers().get("server"));
            assertTrue(json(ping.body()).get("version").asText().startsWith("53."));
            assertEquals(ch.pid(), json(ping.body()).get("pid").asLong());

            ApiClient.Reply unknown = c.call("GET", "vm.nothing", null);
            assertEquals(404, unknown.status());
            assertEquals("Not Found", json(unknown.body()).get(0).asText());

            assertEquals(400, c.call("DELETE", "vm.info", null).status());
            assertEquals(400, c.call("PUT", "vmm.ping", "{}").status());
            assertEquals(400, c.call("GET", "vm.create", null).status());

            ApiClient.Reply info = c.call("GET", "vm.info", null);
            assertEquals(404, info.status());
            assertTrue(info.body().contains("not created"), info.body());
        }
    }

    @Test
    void createRefusesBadBodiesNamingTheField() throws Exception {
        try (ApiClient c = new ApiClient(api)) {
            ApiClient.Reply noPayload = c.call("PUT", "vm.create", "{\"memory\":{\"size\":1073741824}}");
            assertEquals(400, noPayload.status());
            JsonNode chain = json(noPayload.body());
            assertTrue(chain.isArray());
            assertTrue(chain.toString().contains("missing field `payload`"), chain.toString());

            ApiClient.Reply badType = c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":\"2G\"}}");
            assertEquals(400, badType.status());
            assertTrue(badType.body().contains("memory.size") && badType.body().contains("expected u64"), badType.body());

            ApiClient.Reply fsNoSocket = c.call("PUT", "vm.create",
                    "{\"payload\":{\"kernel\":\"/k\"},\"fs\":[{\"tag\":\"kataShared\"}]}");
            assertEquals(400, fsNoSocket.status());
            assertTrue(fsNoSocket.body().contains("missing field `socket`") && fsNoSocket.body().contains("fs[0]"),
                    fsNoSocket.body());

            ApiClient.Reply lowCid = c.call("PUT", "vm.create",
                    "{\"payload\":{\"kernel\":\"/k\"},\"vsock\":{\"cid\":2,\"socket\":\"/x\"}}");
            assertEquals(400, lowCid.status());
            assertTrue(lowCid.body().contains("vsock.cid"), lowCid.body());

            ApiClient.Reply nullPlain = c.call("PUT", "vm.create",
                    "{\"payload\":{\"kernel\":\"/k\"},\"memory\":{\"size\":1073741824,\"shared\":null}}");
            assertEquals(400, nullPlain.status(), "serde refuses null for a plain bool even with a default");
            assertTrue(nullPlain.body().contains("memory.shared"), nullPlain.body());
            assertEquals(204, c.call("PUT", "vm.create",
                    "{\"payload\":{\"kernel\":\"/k\",\"initramfs\":null},\"memory\":{\"size\":1073741824},"
                            + "\"balloon\":null,\"unknown\":[1,2]}").status(), "null is None for Option fields");
            assertEquals(204, c.call("PUT", "vm.delete", null).status());

            ApiClient.Reply notJson = c.call("PUT", "vm.create", "{payload");
            assertEquals(400, notJson.status());
            assertTrue(notJson.body().contains("Failed to deserialize JSON"), notJson.body());

            assertEquals(404, c.call("GET", "vm.info", null).status(), "nothing was created");
        }
    }

    @Test
    void lifecycleDevicesHotplugAndShutdown() throws Exception {
        Path kernel = file("vmlinux");
        Path rootfs = file("rootfs.img");
        Path data = file("data.img");
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Path vfsSock = vmDir.resolve("virtiofsd-kataShared.sock");
        Process vfs = virtiofsd(vfsSock, shared);
        try (ApiClient c = new ApiClient(api)) {
            assertEquals(204, c.call("PUT", "vm.create", vmConfig(kernel, rootfs, vfsSock, true)).status());
            JsonNode created = json(c.call("GET", "vm.info", null).body());
            assertEquals("Created", created.get("state").asText());
            assertEquals(1024, created.get("config").get("fs").get(0).get("queue_size").asInt());
            assertFalse(created.get("config").has("some_future_field"));
            assertEquals(500, c.call("PUT", "vm.create", vmConfig(kernel, rootfs, vfsSock, true)).status(),
                    "a second vm.create is refused");

            ApiClient.Reply boot = c.call("PUT", "vm.boot", null);
            assertEquals(204, boot.status(), boot.body());
            assertNull(boot.headers().get("content-length"));
            JsonNode running = json(c.call("GET", "vm.info", null).body());
            assertEquals("Running", running.get("state").asText());
            JsonNode tree = running.get("device_tree");
            assertEquals("_virtio-pci-_disk0", tree.get("_disk0").get("parent").asText());
            String rootBdf = tree.get("_virtio-pci-_disk0").get("pci_bdf").asText();
            assertTrue(rootBdf.matches("0000:00:[0-9a-f]{2}\\.0"), rootBdf);
            assertTrue(tree.has("_fs1"), tree.toString());

            JsonNode bootEv = awaitGuestEvent("boot", 1);
            assertEquals("kataShared", bootEv.get("fs").get(0).get("tag").asText());
            assertEquals(shared.toString(), bootEv.get("fs").get(0).get("sharedDir").asText());
            assertEquals(rootBdf, bootEv.get("disks").get(0).get("bdf").asText());
            assertTrue(bootEv.get("disks").get(0).get("readonly").asBoolean());
            assertEquals(vmDir.resolve("testbed.jsonl").toString(), bootEv.get("log").asText());

            ApiClient.Reply add = c.call("PUT", "vm.add-disk", "{\"path\":\"" + data + "\",\"readonly\":false,"
                    + "\"image_type\":\"Raw\",\"vhost_user\":false,\"num_queues\":1,\"queue_size\":1024}");
            assertEquals(200, add.status(), add.body());
            JsonNode pci = json(add.body());
            String id = pci.get("id").asText();
            String bdf = pci.get("bdf").asText();
            assertTrue(id.startsWith("_disk"), id);
            assertTrue(bdf.matches("0000:00:[0-9a-f]{2}\\.0"), bdf);
            assertNotEquals(rootBdf, bdf);
            JsonNode addEv = awaitGuestEvent("add-disk", 1);
            assertEquals(id, addEv.get("id").asText());
            assertEquals(bdf, addEv.get("bdf").asText());
            assertEquals(data.toString(), addEv.get("path").asText());
            assertEquals(bdf, json(c.call("GET", "vm.info", null).body()).get("device_tree")
                    .get("_virtio-pci-" + id).get("pci_bdf").asText());

            ApiClient.Reply missing = c.call("PUT", "vm.add-disk", "{\"path\":\"" + tmp.resolve("nope.img") + "\"}");
            assertEquals(500, missing.status());
            assertTrue(missing.body().contains(tmp.resolve("nope.img").toString()), missing.body());
            ApiClient.Reply dup = c.call("PUT", "vm.add-disk", "{\"path\":\"" + data + "\",\"id\":\"" + id + "\"}");
            assertEquals(409, dup.status(), dup.body());

            assertEquals(204, c.call("PUT", "vm.remove-device", "{\"id\":\"" + id + "\"}").status());
            assertEquals(id, awaitGuestEvent("remove-device", 1).get("id").asText());
            assertFalse(json(c.call("GET", "vm.info", null).body()).get("device_tree").has(id));
            ApiClient.Reply again = c.call("PUT", "vm.remove-device", "{\"id\":\"" + id + "\"}");
            assertEquals(404, again.status());
            assertEquals("[\"Error from API\",\"The device could not be removed from the VM\",\"Error from device manager\","
                    + "\"Failed to find device corresponding to the given identifier: " + id + "\"]", again.body(),
                    "CH's error chain for an unknown id");
            ApiClient.Reply readd = c.call("PUT", "vm.add-disk", "{\"path\":\"" + data + "\"}");
            assertEquals(bdf, json(readd.body()).get("bdf").asText(), "the freed slot is reused");

            assertEquals(204, c.call("PUT", "vm.pause", null).status());
            assertEquals("Paused", json(c.call("GET", "vm.info", null).body()).get("state").asText());
            assertEquals(500, c.call("PUT", "vm.pause", null).status());
            assertEquals(204, c.call("PUT", "vm.resume", null).status());
            assertEquals(204, c.call("PUT", "vm.resize", "{\"desired_ram\":3221225472}").status());
            assertEquals(3221225472L, json(c.call("GET", "vm.info", null).body()).get("memory_actual_size").asLong());

            assertEquals(204, c.call("PUT", "vm.shutdown", null).status());
            awaitGuestEvent("shutdown", 1);
            assertEquals("Shutdown", json(c.call("GET", "vm.info", null).body()).get("state").asText());
            assertTrue(vfs.waitFor(30, TimeUnit.SECONDS), "virtiofsd exits once the VMM dropped its connection");
            assertEquals(0, vfs.exitValue());

            ApiClient.Reply bye = c.call("PUT", "vmm.shutdown", null);
            assertEquals(204, bye.status());
        }
        assertTrue(ch.waitFor(30, TimeUnit.SECONDS), "vmm.shutdown ends the process");
        assertEquals(0, ch.exitValue());
        assertFalse(Files.exists(api), "API socket removed");
        assertFalse(Files.exists(vmDir.resolve("clh.sock")), "hybrid vsock socket removed");
        String log = Files.readString(vmDir.resolve("testbed.jsonl"));
        for (String line : log.split("\n")) {
            JsonNode n = json(line);
            assertTrue(n.has("ts") && n.has("component") && n.has("kind"), line);
        }
        assertTrue(log.contains("\"path\":\"/api/v1/vm.add-disk\""), "requests are logged");
        assertTrue(log.contains("\"kind\":\"api-response\""), "answers are logged");
    }

    @Test
    void bootRefusesVirtioFsWithoutSharedMemoryAndMissingFiles() throws Exception {
        Path kernel = file("vmlinux");
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Path vfsSock = vmDir.resolve("virtiofsd.sock");
        try (ApiClient c = new ApiClient(api)) {
            assertEquals(204, c.call("PUT", "vm.create", vmConfig(kernel, tmp.resolve("no-rootfs.img"), vfsSock, false)).status());
            ApiClient.Reply r = c.call("PUT", "vm.boot", null);
            assertEquals(400, r.status());
            assertTrue(r.body().contains("shared memory") && r.body().contains("memory.shared"), r.body());
            assertEquals("Created", json(c.call("GET", "vm.info", null).body()).get("state").asText());
            assertEquals(204, c.call("PUT", "vm.delete", null).status());
            assertEquals(404, c.call("GET", "vm.info", null).status());

            assertEquals(204, c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},\"cpus\":"
                    + "{\"boot_vcpus\":1,\"max_vcpus\":4,\"topology\":{\"threads_per_core\":1,\"cores_per_die\":2,"
                    + "\"dies_per_package\":1,\"packages\":1}}}").status());
            ApiClient.Reply topo = c.call("PUT", "vm.boot", null);
            assertEquals(400, topo.status());
            assertTrue(topo.body().contains("max_vcpus is 4"), topo.body());
            assertEquals(204, c.call("PUT", "vm.delete", null).status());

            assertEquals(204, c.call("PUT", "vm.create", vmConfig(kernel, tmp.resolve("no-rootfs.img"), vfsSock, true)).status());
            ApiClient.Reply noDisk = c.call("PUT", "vm.boot", null);
            assertEquals(500, noDisk.status());
            assertTrue(noDisk.body().contains(tmp.resolve("no-rootfs.img").toString()), noDisk.body());
            assertFalse(Files.exists(vmDir.resolve("fake-guest.jsonl")), "no guest was started");
            assertTrue(Files.exists(shared));
        }
    }

    @Test
    void coldAddedDiskIsPartOfTheBootEvent() throws Exception {
        Path kernel = file("vmlinux");
        Path data = file("cold.img");
        try (ApiClient c = new ApiClient(api)) {
            assertEquals(204, c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"console\":{\"mode\":\"Off\"}}").status());
            ApiClient.Reply cold = c.call("PUT", "vm.add-disk", "{\"path\":\"" + data + "\",\"readonly\":true}");
            assertEquals(204, cold.status());
            assertEquals("", cold.body());
            assertEquals(204, c.call("PUT", "vm.boot", null).status());
            JsonNode boot = awaitGuestEvent("boot", 1);
            assertEquals("_disk0", boot.get("disks").get(0).get("id").asText());
            assertEquals("0000:00:01.0", boot.get("disks").get(0).get("bdf").asText(),
                    "with the console off the first disk takes slot 1");
            assertEquals(0, boot.get("fs").size());
        }
    }

    @Test
    void hotPluggedVirtioFsAndItsRemovalEndVirtiofsd() throws Exception {
        Path kernel = file("vmlinux");
        Path shared = Files.createDirectory(tmp.resolve("extra"));
        Path sock = vmDir.resolve("virtiofsd-extra.sock");
        try (ApiClient c = new ApiClient(api)) {
            assertEquals(204, c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"memory\":{\"size\":1073741824,\"shared\":true},\"platform\":{\"num_pci_segments\":2}}").status());
            assertEquals(204, c.call("PUT", "vm.boot", null).status());
            awaitGuestEvent("boot", 1);
            Process vfs = virtiofsd(sock, shared);
            ApiClient.Reply badSeg = c.call("PUT", "vm.add-fs", "{\"tag\":\"extra\",\"socket\":\"" + sock
                    + "\",\"pci_segment\":2}");
            assertEquals(400, badSeg.status());
            assertTrue(badSeg.body().contains("pci_segment 2"), badSeg.body());
            ApiClient.Reply add = c.call("PUT", "vm.add-fs", "{\"tag\":\"extra\",\"socket\":\"" + sock
                    + "\",\"num_queues\":1,\"queue_size\":1024,\"pci_segment\":1}");
            assertEquals(200, add.status(), add.body());
            JsonNode info = json(add.body());
            assertTrue(info.get("id").asText().startsWith("_fs"));
            assertEquals("0001:00:01.0", info.get("bdf").asText(), "first slot of segment 1");
            JsonNode ev = awaitGuestEvent("add-fs", 1);
            assertEquals("extra", ev.get("tag").asText());
            assertEquals(info.get("id").asText(), ev.get("id").asText());
            assertEquals(shared.toString(), ev.get("sharedDir").asText());
            assertTrue(vfs.isAlive());
            assertEquals(204, c.call("PUT", "vm.remove-device", "{\"id\":\"" + info.get("id").asText() + "\"}").status());
            assertTrue(vfs.waitFor(30, TimeUnit.SECONDS), "virtiofsd exits when the VMM drops the device");
        }
    }

    @Test
    void netDevicesNeedTheirTapFdsAndTapNamesAreRefusedNamingTheLimit() throws Exception {
        Path kernel = file("vmlinux");
        try (ApiClient c = new ApiClient(api)) {
            ApiClient.Reply early = c.call("PUT", "vm.add-net", "{\"mac\":\"02:00:00:00:00:01\"}");
            assertEquals(404, early.status(), "add-net before vm.create: " + early.body());
            assertEquals(204, c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"console\":{\"mode\":\"Off\"},\"net\":[{\"mac\":\"02:00:00:00:00:09\",\"fds\":[5]}]}").status());
            assertFalse(json(c.call("GET", "vm.info", null).body()).get("config").get("net").get(0).has("fds"),
                    "the body's fd numbers are dropped, as CH does");
            ApiClient.Reply named = c.call("PUT", "vm.add-net", "{\"tap\":\"tap0_kata\"}");
            assertEquals(500, named.status());
            assertTrue(named.body().contains("'tap' name (tap0_kata)") && named.body().contains("SCM_RIGHTS"), named.body());
            ApiClient.Reply queues = c.call("PUT", "vm.add-net", "{\"num_queues\":1}");
            assertEquals(400, queues.status());
            assertTrue(queues.body().contains("Number of queues to virtio_net less than 2"), queues.body());
            ApiClient.Reply vcpus = c.call("PUT", "vm.add-net", "{\"num_queues\":4}");
            assertEquals(400, vcpus.status());
            assertTrue(vcpus.body().contains("Number of vCPUs is insufficient for number of queues"), vcpus.body());
            ApiClient.Reply boot = c.call("PUT", "vm.boot", null);
            assertEquals(500, boot.status(), "a vm.create net has no fds: " + boot.body());
            assertTrue(boot.body().contains("vm.create takes no fds"), boot.body());
            assertEquals("Created", json(c.call("GET", "vm.info", null).body()).get("state").asText());
        }
    }

    private static String connectLine(Path sock, String command, byte[] payload, byte[] echoInto) throws IOException {
        try (SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.connect(UnixDomainSocketAddress.of(sock));
            s.write(ByteBuffer.wrap(command.getBytes(StandardCharsets.US_ASCII)));
            StringBuilder line = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (s.read(one) < 0) {
                    return null;
                }
                if (one.get(0) == '\n') {
                    break;
                }
                line.append((char) one.get(0));
            }
            if (payload != null) {
                s.write(ByteBuffer.wrap(payload));
                ByteBuffer in = ByteBuffer.wrap(echoInto);
                while (in.hasRemaining() && s.read(in) >= 0) {
                    // read the echo
                }
            }
            return line.toString();
        }
    }

    @Test
    void hybridVsockConnectsToListeningGuestPortsOnly() throws Exception {
        Path kernel = file("vmlinux");
        Path vsock = vmDir.resolve("clh.sock");
        try (ApiClient c = new ApiClient(api)) {
            assertEquals(204, c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"vsock\":{\"cid\":3,\"socket\":\"" + vsock + "\"}}").status());
            assertFalse(Files.exists(vsock), "CH binds the hybrid vsock socket when the VM boots");
            assertEquals(204, c.call("PUT", "vm.boot", null).status());
            awaitGuestEvent("boot", 1);
            StandIns.await("guest listens on 1024", () -> Files.exists(vmDir.resolve("guest-vsock/1024.sock")), ch, START);

            byte[] payload = "ttrpc-frame-bytes".getBytes(StandardCharsets.US_ASCII);
            byte[] echo = new byte[payload.length];
            String ok = connectLine(vsock, "CONNECT 1024\n", payload, echo);
            assertTrue(ok != null && ok.matches("OK \\d+"), String.valueOf(ok));
            assertTrue(Long.parseLong(ok.substring(3)) >= 1L << 30);
            assertEquals("ttrpc-frame-bytes", new String(echo, StandardCharsets.US_ASCII));

            String lower = connectLine(vsock, "connect 1024\n", null, null);
            assertTrue(lower != null && lower.startsWith("OK "), "the command is case-insensitive");
            assertNotEquals(ok, lower, "each connection gets its own host port");

            assertNull(connectLine(vsock, "CONNECT 2000\n", null, null), "closed when nothing listens");
            assertNull(connectLine(vsock, "HELLO\n", null, null), "closed on a malformed command");
        }
        String log = Files.readString(vmDir.resolve("testbed.jsonl"));
        assertTrue(log.contains("\"kind\":\"vsock-connect\""), log);
        assertTrue(log.contains("\"kind\":\"vsock-refused\""), log);
    }

    @Test
    void exitsWhenTheVmDirectoryVanishes() throws Exception {
        try (var files = Files.list(vmDir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(vmDir);
        assertTrue(ch.waitFor(30, TimeUnit.SECONDS), "the stand-in exits once its directory is gone");
    }

    @Test
    void sigtermStopsTheGuestAndRemovesSockets() throws Exception {
        Path kernel = file("vmlinux");
        Path vsock = vmDir.resolve("clh.sock");
        try (ApiClient c = new ApiClient(api)) {
            c.call("PUT", "vm.create", "{\"payload\":{\"kernel\":\"" + kernel + "\"},"
                    + "\"vsock\":{\"cid\":3,\"socket\":\"" + vsock + "\"}}");
            assertEquals(204, c.call("PUT", "vm.boot", null).status());
        }
        awaitGuestEvent("boot", 1);
        List<ProcessHandle> guests = ch.descendants().toList();
        assertFalse(guests.isEmpty(), "the guest runs as a child");
        ch.destroy();
        assertTrue(ch.waitFor(30, TimeUnit.SECONDS));
        for (ProcessHandle g : guests) {
            assertTrue(g.onExit().get(30, TimeUnit.SECONDS) != null && !g.isAlive());
        }
        assertFalse(Files.exists(api));
        assertFalse(Files.exists(vsock));
    }
}
