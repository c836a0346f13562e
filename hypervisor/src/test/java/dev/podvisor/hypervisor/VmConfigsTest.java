package dev.podvisor.hypervisor;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.hypervisor.clh.ConsoleMode;
import dev.podvisor.hypervisor.clh.VmConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VmConfigsTest {
    private static final Path VM = Path.of("/run/podvisor/sb1");

    private static HypervisorSettings initrd(boolean debug, String params) {
        return new HypervisorSettings(Path.of("/usr/bin/cloud-hypervisor"), Path.of("/k/vmlinux"),
                Path.of("/k/initrd.img"), null, params, 2, 512, Path.of("/usr/libexec/virtiofsd"), null, null,
                1024, debug, true);
    }

    @Test
    void initrdSandboxMatchesKata() throws Exception {
        VmConfig cfg = VmConfigs.forSandbox(initrd(false, " agent.log=debug "), VM,
                VmConfigs.virtiofsdSocket(VM, VmConfigs.KATA_SHARED_TAG));
        JsonNode json = cfg.toJson();
        assertEquals("/k/vmlinux", json.at("/payload/kernel").asText());
        assertEquals("/k/initrd.img", json.at("/payload/initramfs").asText());
        assertEquals("panic=1 no_timer_check noreplace-smp quiet agent.log=debug", json.at("/payload/cmdline").asText());
        assertEquals(2, json.at("/cpus/boot_vcpus").asInt());
        int max = Math.max(2, Runtime.getRuntime().availableProcessors());
        assertEquals(max, json.at("/cpus/max_vcpus").asInt());
        assertEquals(max, json.at("/cpus/topology/cores_per_die").asInt());
        assertEquals(512L * 1024 * 1024, json.at("/memory/size").asLong());
        assertTrue(json.at("/memory/shared").asBoolean());
        assertEquals("/dev/urandom", json.at("/rng/src").asText());
        assertEquals(3, json.at("/vsock/cid").asInt());
        assertEquals("/run/podvisor/sb1/clh.sock", json.at("/vsock/socket").asText());
        assertEquals(1, json.get("fs").size());
        assertEquals("kataShared", json.at("/fs/0/tag").asText());
        assertEquals("/run/podvisor/sb1/virtiofsd-kataShared.sock", json.at("/fs/0/socket").asText());
        assertEquals(1, json.at("/fs/0/num_queues").asInt());
        assertEquals(1024, json.at("/fs/0/queue_size").asInt());
        assertEquals("Off", json.at("/serial/mode").asText());
        assertEquals("Off", json.at("/console/mode").asText());
        assertFalse(json.has("pmem"));
        assertFalse(json.has("disks"));
        assertFalse(json.has("platform"));
        // nothing null is sent
        assertFalse(json.toString().contains("null"), json.toString());
    }

    @Test
    void imageSandboxUsesPmemAndRootParams() {
        var s = new HypervisorSettings(Path.of("/ch"), Path.of("/k"), null, Path.of("/img/kata.img"), "", 1, 2048,
                Path.of("/vfsd"), "never", List.of("--thread-pool-size=4"), 512, true, false);
        VmConfig cfg = VmConfigs.forSandbox(s, VM, Map.of());
        assertNull(cfg.payload().initramfs());
        assertEquals("/img/kata.img", cfg.pmem().getFirst().file());
        assertEquals(Boolean.TRUE, cfg.pmem().getFirst().discardWrites());
        assertEquals("root=/dev/pmem0p1 rootflags=data=ordered,errors=remount-ro ro rootfstype=ext4 panic=1 "
                + "no_timer_check noreplace-smp console=ttyS0,115200n8 systemd.log_target=console",
                cfg.payload().cmdline());
        assertEquals(ConsoleMode.TTY, cfg.serial().mode(), "debug puts the serial console on the VMM's stdout");
        assertEquals(ConsoleMode.OFF, cfg.console().mode());
        assertNull(cfg.fs());
    }

    @Test
    void extraSharesKeepTheirOrder() {
        var socks = new LinkedHashMap<String, Path>();
        socks.put("kataShared", Path.of("/a.sock"));
        socks.put("zeta", Path.of("/z.sock"));
        socks.put("alpha", Path.of("/b.sock"));
        assertEquals(List.of("kataShared", "zeta", "alpha"),
                VmConfigs.forSandbox(initrd(false, ""), VM, socks).fs().stream().map(f -> f.tag()).toList());
        assertEquals(List.of("kataShared", "alpha", "zeta"), VmConfigs.forSandbox(initrd(false, ""), VM,
                Map.of("zeta", Path.of("/z"), "alpha", Path.of("/b"), "kataShared", Path.of("/a")))
                .fs().stream().map(f -> f.tag()).toList());
    }

    @Test
    void settingsDefaultsAndErrors() {
        var d = HypervisorSettings.kataDefaults(Path.of("/ch"), Path.of("/k"), Path.of("/i"), null, Path.of("/v"));
        assertEquals("auto", d.virtioFsCache());
        assertEquals(List.of("--thread-pool-size=1", "--announce-submounts"), d.virtioFsExtraArgs());
        assertEquals(1024, d.virtioFsQueueSize());
        assertEquals(2048, d.defaultMemoryMiB());
        assertEquals("", d.kernelParams());
        assertTrue(d.seccomp());

        assertEquals("[hypervisor.clh] path: missing", assertThrows(IllegalArgumentException.class,
                () -> HypervisorSettings.kataDefaults(null, Path.of("/k"), Path.of("/i"), null, Path.of("/v")))
                .getMessage());
        assertEquals("[hypervisor.clh] image '/img' and initrd '/i': cannot set both image and initrd at the same time",
                assertThrows(IllegalArgumentException.class, () -> HypervisorSettings.kataDefaults(Path.of("/ch"),
                        Path.of("/k"), Path.of("/i"), Path.of("/img"), Path.of("/v"))).getMessage());
        assertEquals("[hypervisor.clh] image and initrd: missing, one is needed",
                assertThrows(IllegalArgumentException.class, () -> HypervisorSettings.kataDefaults(Path.of("/ch"),
                        Path.of("/k"), null, null, Path.of("/v"))).getMessage());
        assertEquals("[hypervisor.clh] virtio_fs_cache 'none': expected one of auto, always, metadata, never",
                assertThrows(IllegalArgumentException.class, () -> new HypervisorSettings(Path.of("/ch"),
                        Path.of("/k"), Path.of("/i"), null, "", 1, 1, Path.of("/v"), "none", null, 1, false, true))
                        .getMessage());
        assertEquals("[hypervisor.clh] default_vcpus 0: must be ≥ 1",
                assertThrows(IllegalArgumentException.class, () -> new HypervisorSettings(Path.of("/ch"),
                        Path.of("/k"), Path.of("/i"), null, "", 0, 1, Path.of("/v"), null, null, 1, false, true))
                        .getMessage());
        assertEquals("[hypervisor.clh] virtio_fs_queue_size 0: must be ≥ 1",
                assertThrows(IllegalArgumentException.class, () -> new HypervisorSettings(Path.of("/ch"),
                        Path.of("/k"), Path.of("/i"), null, "", 1, 1, Path.of("/v"), null, null, 0, false, true))
                        .getMessage());
    }
}
