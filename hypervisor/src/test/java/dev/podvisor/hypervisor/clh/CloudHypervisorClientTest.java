package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CloudHypervisorClientTest {
    @TempDir
    Path dir;
    private FakeCloudHypervisor fake;
    private CloudHypervisorClient client;
    private final CountDownLatch release = new CountDownLatch(1);

    private CloudHypervisorClient start(Function<FakeCloudHypervisor.Request, FakeCloudHypervisor.Reply> h)
            throws IOException {
        Path sock = dir.resolve("clh-api.sock");
        fake = new FakeCloudHypervisor(sock, h);
        client = new CloudHypervisorClient(sock, Duration.ofSeconds(10));
        return client;
    }

    @AfterEach
    void tearDown() throws IOException {
        release.countDown();
        if (client != null) {
            client.close();
        }
        if (fake != null) {
            fake.close();
        }
    }

    @Test
    void pingParses200JsonAndSendsMinimalHeaders() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.json(
                "{\"build_version\":\"v41.0\",\"version\":\"41.0.0\",\"pid\":4242,\"features\":[\"kvm\",\"io_uring\"],\"new_key\":1}"));
        VmmPingResponse ping = client.ping();
        assertEquals(new VmmPingResponse("v41.0", "41.0.0", 4242L, List.of("kvm", "io_uring")), ping);
        var req = fake.requests.getFirst();
        assertEquals("GET", req.method());
        assertEquals("/api/v1/vmm.ping", req.target());
        assertEquals("localhost", req.headers().get("host"));
        assertEquals("application/json", req.headers().get("accept"));
        assertFalse(req.headers().containsKey("content-length"));
    }

    @Test
    void createVmSendsSnakeCaseJsonWithoutNullsAndAccepts204() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.noContent());
        var cfg = new VmConfig(new PayloadConfig("/k", "quiet", null, null), new CpusConfig(1, 2, null, null),
                MemoryConfig.of(1L << 30, true), null,
                List.of(FsConfig.of("kataShared", "/vm/virtiofsd-kataShared.sock", 1024)), null,
                new RngConfig("/dev/urandom", null), ConsoleConfig.of(ConsoleMode.OFF), null, null,
                new VsockConfig(3, "/vm/clh.sock", null, null, null), null);
        client.createVm(cfg);
        var req = fake.requests.getFirst();
        assertEquals("PUT", req.method());
        assertEquals("vm.create", req.endpoint());
        assertEquals("application/json", req.headers().get("content-type"));
        assertEquals(String.valueOf(req.body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length),
                req.headers().get("content-length"));
        JsonNode json = JsonTrees.parse(req.body());
        assertEquals(1, json.at("/cpus/boot_vcpus").asInt());
        assertEquals(2, json.at("/cpus/max_vcpus").asInt());
        assertEquals(1L << 30, json.at("/memory/size").asLong());
        assertTrue(json.at("/memory/shared").asBoolean());
        assertTrue(json.at("/memory/hotplug_size").isMissingNode(), "nulls are left out");
        assertTrue(json.at("/payload/initramfs").isMissingNode());
        assertEquals("kataShared", json.at("/fs/0/tag").asText());
        assertEquals(1, json.at("/fs/0/num_queues").asInt());
        assertEquals(1024, json.at("/fs/0/queue_size").asInt());
        assertEquals("Off", json.at("/serial/mode").asText());
        assertTrue(json.at("/console").isMissingNode());
        assertEquals(3, json.at("/vsock/cid").asInt());
        assertEquals("/vm/clh.sock", json.at("/vsock/socket").asText());
    }

    @Test
    void putWithoutBodySendsContentLengthZero() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.noContent());
        client.bootVm();
        client.pauseVm();
        client.resumeVm();
        client.shutdownVm();
        client.deleteVm();
        assertEquals(List.of("vm.boot", "vm.pause", "vm.resume", "vm.shutdown", "vm.delete"),
                fake.requests.stream().map(FakeCloudHypervisor.Request::endpoint).toList());
        assertTrue(fake.requests.stream().allMatch(r -> r.method().equals("PUT")
                && "0".equals(r.headers().get("content-length")) && r.body().isEmpty()));
    }

    @Test
    void non2xxBecomesApiExceptionWithStatusAndBody() throws IOException {
        start(r -> switch (r.endpoint()) {
            case "vm.boot" -> FakeCloudHypervisor.Reply.error(500, "[\"Error booting VM\",\"VM is not created\"]");
            case "vm.info" -> FakeCloudHypervisor.Reply.error(404, "VM is not created");
            default -> FakeCloudHypervisor.Reply.error(400, "");
        });
        var e = assertThrows(CloudHypervisorApiException.class, client::bootVm);
        assertEquals("vm.boot", e.endpoint());
        assertEquals(500, e.statusCode());
        assertEquals("[\"Error booting VM\",\"VM is not created\"]", e.body());
        assertEquals("cloud-hypervisor PUT vm.boot: HTTP 500: [\"Error booting VM\",\"VM is not created\"]",
                e.getMessage());
        var e2 = assertThrows(CloudHypervisorApiException.class, client::info);
        assertEquals(404, e2.statusCode());
        var e3 = assertThrows(CloudHypervisorApiException.class, () -> client.removeDevice("_disk9"));
        assertEquals(400, e3.statusCode());
        assertEquals("", e3.body());
        assertEquals(1, fake.connections.get(), "error answers keep the connection");
    }

    @Test
    void reusesOneConnection() throws IOException {
        start(r -> r.endpoint().equals("vmm.ping")
                ? FakeCloudHypervisor.Reply.json("{\"version\":\"51.1.0\"}")
                : FakeCloudHypervisor.Reply.noContent());
        for (int i = 0; i < 5; i++) {
            client.ping();
            client.bootVm();
        }
        assertEquals(10, fake.requests.size());
        assertEquals(1, fake.connections.get());
    }

    @Test
    void reconnectsWhenTheVmmClosedTheConnection() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.json("{\"version\":\"51.1.0\"}").thenClose());
        assertEquals("51.1.0", client.ping().version());
        assertEquals("51.1.0", client.ping().version());
        assertEquals("51.1.0", client.ping().version());
        assertEquals(3, fake.requests.size());
        assertEquals(3, fake.connections.get());
    }

    @Test
    void resendsOnceWhenAReusedConnectionDiesBeforeTheAnswer() throws IOException {
        var calls = new java.util.concurrent.atomic.AtomicInteger();
        start(r -> calls.incrementAndGet() == 2
                ? FakeCloudHypervisor.Reply.hangUp()
                : FakeCloudHypervisor.Reply.json("{\"version\":\"51.1.0\"}"));
        client.ping();
        assertEquals("51.1.0", client.ping().version());
        assertEquals(3, fake.requests.size());
        assertEquals(2, fake.connections.get());
    }

    @Test
    void hotplugAnswers() throws IOException {
        start(r -> switch (r.endpoint()) {
            case "vm.add-disk" -> r.body().contains("\"id\":\"cold\"")
                    ? FakeCloudHypervisor.Reply.noContent()
                    : FakeCloudHypervisor.Reply.json("{\"id\":\"_disk2\",\"bdf\":\"0000:00:05.0\"}");
            case "vm.add-device" -> FakeCloudHypervisor.Reply.json("{\"id\":\"_vfio0\",\"bdf\":\"0000:00:06.0\"}");
            default -> FakeCloudHypervisor.Reply.noContent();
        });
        PciDeviceInfo disk = client.addDisk(DiskConfig.blockDevice("/dev/loop7", true, 1, 1024));
        assertEquals(new PciDeviceInfo("_disk2", "0000:00:05.0"), disk);
        assertEquals("05", PciPaths.fromBdf(disk.bdf()));
        JsonNode body = JsonTrees.parse(fake.requests.getFirst().body());
        assertEquals("/dev/loop7", body.get("path").asText());
        assertTrue(body.get("readonly").asBoolean());
        assertFalse(body.get("vhost_user").asBoolean());
        assertEquals(1024, body.get("queue_size").asInt());
        assertFalse(body.has("id"));
        assertEquals(new PciDeviceInfo("_vfio0", "0000:00:06.0"),
                client.addDevice(new DeviceConfig("/sys/bus/pci/devices/0000:3b:00.0", null, null, null)));
        assertEquals(Optional.empty(), client.addFs(FsConfig.of("extra", "/vm/x.sock", 1024)));
        var e = assertThrows(IOException.class, () -> client.addDisk(DiskConfig.blockDevice("/x", false, 1, 128)
                .withId("cold")));
        assertTrue(e.getMessage().contains("HTTP 204"), e.getMessage());
        client.removeDevice("_disk2");
        assertEquals("{\"id\":\"_disk2\"}", fake.requests.getLast().body());
    }

    @Test
    void addFsReturnsPciInfoWhenRunning() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.json("{\"id\":\"_fs1\",\"bdf\":\"0000:00:07.0\"}"));
        assertEquals(Optional.of(new PciDeviceInfo("_fs1", "0000:00:07.0")),
                client.addFs(new FsConfig("extra", "/vm/x.sock", 1, 1024, 0, "fs-extra")));
        assertEquals("{\"tag\":\"extra\",\"socket\":\"/vm/x.sock\",\"num_queues\":1,\"queue_size\":1024,"
                + "\"pci_segment\":0,\"id\":\"fs-extra\"}", fake.requests.getFirst().body());
    }

    @Test
    void infoParsesStateConfigAndDeviceTree() throws IOException {
        String info = """
                {"config":{"cpus":{"boot_vcpus":1,"max_vcpus":4,"topology":{"threads_per_core":1,"cores_per_die":4,
                "dies_per_package":1,"packages":1},"kvm_hyperv":false,"max_phys_bits":46},
                "memory":{"size":2147483648,"mergeable":false,"hotplug_method":"Acpi","shared":true,"hugepages":false,
                "thp":true},"payload":{"kernel":"/k","cmdline":"quiet"},"disks":[{"path":"/dev/loop7","readonly":true,
                "direct":false,"iommu":false,"num_queues":1,"queue_size":1024,"vhost_user":false,"id":"_disk2",
                "pci_segment":0}],"net":[],"rng":{"src":"/dev/urandom","iommu":false},
                "serial":{"mode":"Off","iommu":false},"console":{"mode":"Off","iommu":false},
                "vsock":{"cid":3,"socket":"/vm/clh.sock","iommu":false,"id":"_vsock0","pci_segment":0},
                "iommu":false,"watchdog":false},
                "state":"Running","memory_actual_size":2147483648,
                "device_tree":{"_disk2":{"id":"_disk2","resources":[{"PciBar":{"index":0,"base":1,"size":2,
                "type_":"Mmio32","prefetchable":false}}],"parent":"__pci_root0","children":[],
                "pci_bdf":"0000:00:05.0"}}}
                """;
        start(r -> FakeCloudHypervisor.Reply.json(info));
        VmInfo vm = client.info();
        assertEquals(VmInfo.RUNNING, vm.state());
        assertEquals(2147483648L, vm.memoryActualSize());
        assertEquals(4, vm.config().cpus().maxVcpus());
        assertEquals(46, vm.config().cpus().maxPhysBits());
        assertEquals(ConsoleMode.OFF, vm.config().serial().mode());
        assertEquals("_disk2", vm.config().disks().getFirst().id());
        assertEquals("0000:00:05.0", vm.deviceTree().get("_disk2").pciBdf());
        assertEquals("__pci_root0", vm.deviceTree().get("_disk2").parent());
        assertEquals(1, vm.deviceTree().get("_disk2").resources().size());
    }

    @Test
    void countersParse() throws IOException {
        String answer = "{\"_disk0\":{\"read_bytes\":10,\"write_ops\":2,\"big\":9223372036854775807},\"_net0\":{},"
                + "\"_x\":null}";
        start(r -> FakeCloudHypervisor.Reply.json(answer));
        Map<String, Map<String, Long>> c = client.counters();
        assertEquals(10L, c.get("_disk0").get("read_bytes"));
        assertEquals(Map.of(), c.get("_net0"));
        assertEquals(ReferenceMapper.MAPPER.readValue(answer,
                new com.fasterxml.jackson.core.type.TypeReference<Map<String, Map<String, Long>>>() { }), c);
    }

    @Test
    void answersOfTheWrongShapeNameEndpointTypeAndField() throws IOException {
        start(r -> switch (r.endpoint()) {
            case "vm.info" -> FakeCloudHypervisor.Reply.json("{\"state\":\"Running\",\"config\":{\"cpus\":{\"boot_vcpus\":\"two\"}}}");
            case "vm.counters" -> FakeCloudHypervisor.Reply.json("{\"_disk0\":{\"read_bytes\":\"many\"}}");
            case "vm.add-disk" -> FakeCloudHypervisor.Reply.json("[\"_disk2\"]");
            default -> FakeCloudHypervisor.Reply.json("{\"version\":[51]}");
        });
        var info = assertThrows(IOException.class, client::info);
        assertFalse(info instanceof CloudHypervisorApiException);
        assertEquals("cloud-hypervisor vm.info: bad VmInfo JSON: config.cpus.boot_vcpus: expected an integer, got \"two\"",
                info.getMessage());
        assertEquals("cloud-hypervisor GET vm.counters: bad JSON answer: _disk0.read_bytes: expected an integer, "
                + "got \"many\"", assertThrows(IOException.class, client::counters).getMessage());
        assertEquals("cloud-hypervisor vm.add-disk: bad PciDeviceInfo JSON: the answer: expected an object, got "
                + "[\"_disk2\"]", assertThrows(IOException.class,
                () -> client.addDisk(DiskConfig.blockDevice("/x", false, 1, 128))).getMessage());
        assertEquals("cloud-hypervisor vmm.ping: bad VmmPingResponse JSON: version: expected a string, got [51]",
                assertThrows(IOException.class, client::ping).getMessage());
    }

    @Test
    void callTimeoutDropsTheConnectionAndTheNextCallWorks() throws IOException {
        start(r -> {
            if (r.endpoint().equals("vm.boot")) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return FakeCloudHypervisor.Reply.hangUp();
            }
            return FakeCloudHypervisor.Reply.json("{\"version\":\"51.1.0\"}");
        });
        var quick = client.withCallTimeout(Duration.ofMillis(200));
        var e = assertThrows(SocketTimeoutException.class, quick::bootVm);
        assertTrue(e.getMessage().startsWith("cloud-hypervisor PUT vm.boot on " + dir.resolve("clh-api.sock")
                + ": no answer within the call timeout"), e.getMessage());
        assertEquals("51.1.0", client.ping().version());
        assertEquals(2, fake.connections.get());
    }

    @Test
    void shutdownVmmToleratesAVmmThatHangsUp() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.hangUp());
        client.shutdownVmm();
        assertEquals("vmm.shutdown", fake.requests.getFirst().endpoint());
    }

    @Test
    void missingSocketNamesSocketAndEndpoint() {
        var c = new CloudHypervisorClient(dir.resolve("nope.sock"), Duration.ofSeconds(1));
        var e = assertThrows(IOException.class, c::ping);
        assertTrue(e.getMessage().startsWith("cloud-hypervisor GET vmm.ping on " + dir.resolve("nope.sock")
                + ": cannot connect"), e.getMessage());
        assertFalse(e instanceof CloudHypervisorApiException);
    }

    @Test
    void badJsonAnswerIsAnIOException() throws IOException {
        start(r -> FakeCloudHypervisor.Reply.json("not json"));
        var e = assertThrows(IOException.class, client::ping);
        assertInstanceOf(com.fasterxml.jackson.core.JsonProcessingException.class, e.getCause());
        assertTrue(e.getMessage().startsWith("cloud-hypervisor vmm.ping: bad VmmPingResponse JSON"));
    }

    @Test
    void rejectsNonPositiveTimeout() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> new CloudHypervisorClient(dir.resolve("x.sock"), Duration.ZERO));
        assertEquals("cloud-hypervisor client callTimeout PT0S: must be positive", e.getMessage());
    }
}
