package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The explicit {@code toJson()}/{@code fromJson} code sends and reads what the reflective ObjectMapper did
 * ({@link ReferenceMapper}): the same bytes, key order included, and the same records from the same answers.
 */
class ClhJsonParityTest {
    /** A request record and the tree its {@code toJson()} built. */
    private record Body(String name, Object record, JsonNode json) {
    }

    private static List<Body> bodies() {
        List<Body> out = new ArrayList<>();
        VmConfig rich = ClhSamples.rich();
        out.add(new Body("rich VmConfig", rich, rich.toJson()));
        ClhSamples.sandboxes().forEach((name, config) -> out.add(new Body("sandbox " + name, config, config.toJson())));
        for (ConsoleConfig console : ClhSamples.consoles()) {
            out.add(new Body("console " + console.mode(), console, console.toJson()));
        }
        VmConfig bare = new VmConfig(new PayloadConfig("/k", null, null, null), null, null, null, null, null, null,
                null, null, null, null, null);
        out.add(new Body("bare VmConfig", bare, bare.toJson()));
        VmConfig empties = new VmConfig(null, new CpusConfig(0, 0, new CpuTopology(null, null, null, null), null),
                MemoryConfig.of(0, false), List.of(), List.of(), List.of(), null, new ConsoleConfig(null, null, null,
                null), null, List.of(), null, new PlatformConfig(null, List.of(), null, null, List.of()));
        out.add(new Body("empty lists and objects", empties, empties.toJson()));
        DiskConfig disk = ClhSamples.disk();
        out.add(new Body("vm.add-disk full", disk, disk.toJson()));
        DiskConfig block = DiskConfig.blockDevice("/dev/loop7", true, 2, 1024).withId("_disk9");
        out.add(new Body("vm.add-disk block", block, block.toJson()));
        FsConfig fs = new FsConfig("extra", "/vm/x.sock", 1, 1024, 0, "fs-extra");
        out.add(new Body("vm.add-fs", fs, fs.toJson()));
        NetConfig net = ClhSamples.net();
        out.add(new Body("vm.add-net full", net, net.toJson()));
        NetConfig tapFd = NetConfig.forTapFd("02:42:0a:58:00:05");
        out.add(new Body("vm.add-net tap fd", tapFd, tapFd.toJson()));
        DeviceConfig device = new DeviceConfig("/sys/bus/pci/devices/0000:3b:00.0", null, 0, null);
        out.add(new Body("vm.add-device", device, device.toJson()));
        VmRemoveDevice remove = new VmRemoveDevice("_disk2");
        out.add(new Body("vm.remove-device", remove, remove.toJson()));
        return out;
    }

    @Test
    void everyRequestBodyIsTheBytesTheReflectiveMapperWrote() throws Exception {
        List<Body> bodies = bodies();
        for (Body body : bodies) {
            assertEquals(ReferenceMapper.MAPPER.writeValueAsString(body.record()),
                    JsonTrees.toString(body.json(), false), body.name());
        }
        assertEquals(21, bodies.size());
    }

    @Test
    void theRichVmConfigIsTheOpenApiShape() {
        // captured from the reflective mapper before the explicit code replaced it
        assertEquals("{\"payload\":{\"kernel\":\"/k/vmlinux\",\"cmdline\":\"quiet \\\"x\\\"\",\"initramfs\":\"/k/initrd\","
                + "\"firmware\":\"/fw/hypervisor-fw\"},\"cpus\":{\"boot_vcpus\":2,\"max_vcpus\":8,\"topology\":"
                + "{\"threads_per_core\":2,\"cores_per_die\":2,\"dies_per_package\":1,\"packages\":2},\"max_phys_bits\":46},"
                + "\"memory\":{\"size\":2147483648,\"hotplug_size\":8589934592,\"hotplugged_size\":1073741824,"
                + "\"mergeable\":true,\"hotplug_method\":\"VirtioMem\",\"shared\":true,\"hugepages\":true,"
                + "\"hugepage_size\":2097152,\"prefault\":true,\"thp\":false},\"disks\":[{\"path\":\"/img/d.qcow2\","
                + "\"readonly\":false,\"direct\":true,\"iommu\":false,\"num_queues\":4,\"queue_size\":256,"
                + "\"vhost_user\":false,\"vhost_socket\":\"/vm/vhost.sock\",\"pci_segment\":1,\"id\":\"_disk3\","
                + "\"serial\":\"SERIAL-3\",\"image_type\":\"Qcow2\",\"sparse\":false},{\"path\":\"/dev/loop7\","
                + "\"readonly\":true,\"num_queues\":2,\"queue_size\":1024,\"vhost_user\":false}],\"fs\":[{\"tag\":"
                + "\"kataShared\",\"socket\":\"/vm/a.sock\",\"num_queues\":1,\"queue_size\":1024},{\"tag\":\"extra\","
                + "\"socket\":\"/vm/b.sock\",\"num_queues\":2,\"queue_size\":512,\"pci_segment\":1,\"id\":\"fs-extra\"}],"
                + "\"pmem\":[{\"file\":\"/img/kata.img\",\"size\":268435456,\"iommu\":false,\"discard_writes\":true,"
                + "\"pci_segment\":0,\"id\":\"_pmem0\"}],\"rng\":{\"src\":\"/dev/urandom\",\"iommu\":true},\"serial\":"
                + "{\"mode\":\"File\",\"file\":\"/vm/serial.log\",\"iommu\":false},\"console\":{\"mode\":\"Socket\","
                + "\"socket\":\"/vm/console.sock\",\"iommu\":true},\"devices\":[{\"path\":"
                + "\"/sys/bus/pci/devices/0000:3b:00.0\",\"iommu\":true,\"pci_segment\":1,\"id\":\"_vfio0\"},{\"path\":"
                + "\"/sys/bus/pci/devices/0000:3c:00.0\"}],\"vsock\":{\"cid\":3,\"socket\":\"/vm/clh.sock\",\"iommu\":false,"
                + "\"pci_segment\":0,\"id\":\"_vsock0\"},\"platform\":{\"num_pci_segments\":2,\"iommu_segments\":[0,1],"
                + "\"serial_number\":\"SN-1\",\"uuid\":\"4f0c5a6e-0000-4000-8000-000000000001\",\"oem_strings\":"
                + "[\"oem1\",\"oem=2\"]}}", JsonTrees.toString(ClhSamples.rich().toJson(), false));
    }

    @Test
    void consoleModesAreSpelledAsTheOpenApi() {
        List<String> spelled = new ArrayList<>();
        for (ConsoleConfig console : ClhSamples.consoles()) {
            String name = console.toJson().get("mode").textValue();
            spelled.add(name);
            assertEquals(console.mode(), ConsoleMode.ofJsonName(name));
        }
        assertEquals(List.of("Off", "Pty", "Tty", "File", "Socket", "Null"), spelled);
        assertNull(ConsoleMode.ofJsonName("off"), "serde's spelling is case-sensitive");
    }

    @Test
    void vmInfoReadsWhatTheReflectiveMapperRead() throws Exception {
        List<String> answers = List.of(
                // Cloud Hypervisor v51-like, with keys Podvisor does not model
                """
                {"config":{"cpus":{"boot_vcpus":1,"max_vcpus":4,"topology":{"threads_per_core":1,"cores_per_die":4,
                "dies_per_package":1,"packages":1},"kvm_hyperv":false,"max_phys_bits":46,"nested":true},
                "memory":{"size":2147483648,"mergeable":false,"hotplug_method":"Acpi","shared":true,"hugepages":false,
                "thp":true,"zones":null},"payload":{"kernel":"/k","cmdline":"quiet","igvm":null},
                "disks":[{"path":"/dev/loop7","readonly":true,"direct":false,"iommu":false,"num_queues":1,
                "queue_size":1024,"vhost_user":false,"id":"_disk2","pci_segment":0,"rate_limiter_config":null,
                "queue_affinity":[]}],"net":[{"mac":"02:42:0a:58:00:05"}],"rng":{"src":"/dev/urandom","iommu":false},
                "fs":[{"tag":"kataShared","socket":"/vm/fs.sock","num_queues":1,"queue_size":1024,"id":"_fs0",
                "pci_segment":0}],"pmem":null,"devices":[],"balloon":null,
                "serial":{"mode":"Off","iommu":false},"console":{"mode":"Tty","iommu":false,"file":null},
                "vsock":{"cid":3,"socket":"/vm/clh.sock","iommu":false,"id":"_vsock0","pci_segment":0},
                "platform":{"num_pci_segments":1,"iommu_segments":null,"serial_number":null,"tdx":false},
                "iommu":false,"watchdog":false,"pvpanic":false},
                "state":"Running","memory_actual_size":2147483648,
                "device_tree":{"_disk2":{"id":"_disk2","resources":[{"PciBar":{"index":0,"base":1,"size":2,
                "type_":"Mmio32","prefetchable":false}},7,null],"parent":"__pci_root0","children":[],
                "pci_bdf":"0000:00:05.0"},"__pci_root0":{"id":"__pci_root0","resources":[],"parent":null,
                "children":["_disk2"],"pci_bdf":null},"_vsock0":null}}
                """,
                // just created: no device tree, no memory size; primitives absent
                "{\"config\":{\"payload\":{\"kernel\":\"/k\"},\"cpus\":{},\"memory\":{},\"fs\":[{}],"
                        + "\"vsock\":{\"socket\":\"/s\"}},\"state\":\"Created\"}",
                // explicit nulls everywhere
                "{\"config\":null,\"state\":null,\"memory_actual_size\":null,\"device_tree\":null}",
                "{\"config\":{\"cpus\":{\"boot_vcpus\":null},\"disks\":[null]}}",
                "{}",
                // what Jackson's scalar coercions took
                "{\"state\":1,\"memory_actual_size\":\"4096\",\"config\":{\"cpus\":{\"boot_vcpus\":\"2\",\"max_vcpus\":4},"
                        + "\"memory\":{\"size\":1,\"shared\":\"true\"},\"payload\":{\"kernel\":true}}}",
                // a round trip of every field
                "{\"config\":" + JsonTrees.toString(ClhSamples.rich().toJson(), false) + ",\"state\":\"Paused\"}");
        for (String answer : answers) {
            assertEquals(ReferenceMapper.MAPPER.readValue(answer, VmInfo.class),
                    VmInfo.fromJson(JsonTrees.parse(answer)), answer);
        }
        assertEquals(ClhSamples.rich(), VmInfo.fromJson(JsonTrees.parse(answers.getLast())).config());
    }

    @Test
    void hotPlugAndPingAnswersReadWhatTheReflectiveMapperRead() throws Exception {
        for (String answer : List.of("{\"id\":\"_disk2\",\"bdf\":\"0000:00:05.0\"}",
                "{\"id\":\"_net1\",\"bdf\":\"0000:00:06.0\",\"pci_device_id\":6,\"extra\":{\"a\":[1]}}", "{}")) {
            assertEquals(ReferenceMapper.MAPPER.readValue(answer, PciDeviceInfo.class),
                    PciDeviceInfo.fromJson(JsonTrees.parse(answer)), answer);
        }
        for (String answer : List.of(
                "{\"build_version\":\"v51.1-dirty\",\"version\":\"51.1.0\",\"pid\":4242,\"features\":[\"kvm\",\"io_uring\"],"
                        + "\"new_key\":{\"x\":1}}",
                "{\"version\":\"41.0.0\"}", "{\"version\":41,\"pid\":\"12\",\"features\":[]}",
                "{\"version\":\"1\",\"pid\":null,\"features\":null}")) {
            assertEquals(ReferenceMapper.MAPPER.readValue(answer, VmmPingResponse.class),
                    VmmPingResponse.fromJson(JsonTrees.parse(answer)), answer);
        }
    }

    @Test
    void badAnswersNameTheFieldAndTheValue() {
        Map<String, String> bad = Map.of(
                "{\"config\":{\"cpus\":{\"boot_vcpus\":\"two\"}}}",
                "config.cpus.boot_vcpus: expected an integer, got \"two\"",
                "{\"config\":{\"disks\":[{\"path\":\"/d\"},{\"num_queues\":1.5}]}}",
                "config.disks[1].num_queues: expected an integer, got 1.5",
                "{\"config\":{\"fs\":{\"tag\":\"x\"}}}", "config.fs: expected an array, got {\"tag\":\"x\"}",
                "{\"config\":{\"serial\":{\"mode\":\"Serial\"}}}",
                "config.serial.mode: expected one of Off, Pty, Tty, File, Socket, Null, got \"Serial\"",
                "{\"config\":{\"memory\":{\"shared\":1}}}", "config.memory.shared: expected true or false, got 1",
                "{\"device_tree\":{\"_disk2\":{\"children\":[{}]}}}",
                "device_tree._disk2.children[0]: expected a string, got {}",
                "{\"config\":{\"cpus\":{\"max_vcpus\":4294967296}}}",
                "config.cpus.max_vcpus: expected an integer within int range, got 4294967296",
                "[\"Running\"]", "the answer: expected an object, got [\"Running\"]",
                "null", "the answer: expected an object, got null");
        bad.forEach((answer, message) -> assertEquals(message, assertThrows(IOException.class,
                () -> VmInfo.fromJson(JsonTrees.parse(answer)), answer).getMessage(), answer));
        assertEquals("the answer: expected an object, got nothing",
                assertThrows(IOException.class, () -> PciDeviceInfo.fromJson(JsonTrees.parse(" "))).getMessage());
        assertEquals("bdf: expected a string, got [0,5]", assertThrows(IOException.class,
                () -> PciDeviceInfo.fromJson(JsonTrees.parse("{\"id\":\"_disk2\",\"bdf\":[0,5]}"))).getMessage());
        assertEquals("pid: expected an integer, got \"x\"", assertThrows(IOException.class,
                () -> VmmPingResponse.fromJson(JsonTrees.parse("{\"version\":\"1\",\"pid\":\"x\"}"))).getMessage());
    }
}
