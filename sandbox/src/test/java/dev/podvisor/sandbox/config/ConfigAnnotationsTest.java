package dev.podvisor.sandbox.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigAnnotationsTest {
    private static final String H = ConfigAnnotations.HYPERVISOR_PREFIX;

    private static PodvisorConfig withGate(String... patterns) {
        StringBuilder toml = new StringBuilder("[hypervisor.clh]\nenable_annotations = [");
        for (int i = 0; i < patterns.length; i++) {
            toml.append(i == 0 ? "" : ", ").append('"').append(patterns[i].replace("\\", "\\\\")).append('"');
        }
        return ConfigLoader.parse(toml.append("]\n").toString(), "<t>");
    }

    @Test
    void hypervisorAnnotationRefusedWhenNotEnabled() {
        PodvisorConfig c = withGate("kernel_params");
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigAnnotations.apply(c, Map.of(H + "default_memory", "4096"), 8));
        assertTrue(e.getMessage().startsWith("annotation io.katacontainers.config.hypervisor.default_memory is not"
                + " enabled"), e.getMessage());
        // default configuration enables nothing
        assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(PodvisorConfig.defaults(),
                Map.of(H + "kernel_params", "quiet"), 8));
        // even an annotation Podvisor does not implement is refused when not enabled, as in Kata
        assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c, Map.of(H + "enable_iommu", "true"), 8));
    }

    @Test
    void gateMatchesUnanchoredLikeGo() {
        PodvisorConfig c = withGate("memory");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(H + "default_memory", "4096",
                H + "memory_slots", "4"), 8);
        assertEquals(4096, out.clh().defaultMemoryMib());
        assertEquals(4, out.clh().memorySlots());
        assertEquals(2048, c.clh().defaultMemoryMib(), "input not modified");
        PodvisorConfig anchored = withGate("^default_vcpus$");
        assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(anchored,
                Map.of(H + "default_maxvcpus", "2"), 8));
    }

    @Test
    void enabledButUnimplementedHypervisorAnnotationIsIgnored() {
        PodvisorConfig c = withGate(".*");
        assertSame(c, ConfigAnnotations.apply(c, Map.of(H + "enable_iommu", "true"), 8));
    }

    @Test
    void unrelatedAndPlannerAnnotationsLeaveConfigAlone() {
        PodvisorConfig c = PodvisorConfig.defaults();
        assertSame(c, ConfigAnnotations.apply(c, Map.of(
                "io.kubernetes.cri.container-type", "sandbox",
                "io.katacontainers.config.runtime.special_volumes", "dev1:/data",
                "io.katacontainers.config.runtime.sandbox_bind_mounts", "/etc/x"), 8));
    }

    @Test
    void numericAndBooleanOverrides() {
        PodvisorConfig c = withGate(".*");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(
                H + "default_vcpus", "1.5",
                H + "default_maxvcpus", "4",
                H + "disable_block_device_use", "T",
                H + "virtio_fs_cache", "never",
                H + "virtio_fs_cache_size", "1024",
                H + "kernel_params", "quiet",
                H + "machine_accelerators", "a, b"), 8);
        assertEquals(2, out.clh().defaultVcpus());
        assertEquals(4, out.clh().defaultMaxVcpus());
        assertTrue(out.clh().disableBlockDeviceUse());
        assertEquals(VirtioFsCache.NEVER, out.clh().virtioFsCache());
        assertEquals(1024, out.clh().virtioFsCacheSizeMib());
        assertEquals("quiet", out.clh().kernelParams());
        assertEquals("a,b", out.clh().machineAccelerators());
        assertFalse(ConfigAnnotations.apply(c, Map.of(H + "disable_block_device_use", "0"), 8).clh()
                .disableBlockDeviceUse());
    }

    @Test
    void badAnnotationValuesNameTheAnnotation() {
        PodvisorConfig c = withGate(".*");
        assertError(c, H + "default_memory", "lots", "Please specify positive numeric value");
        assertError(c, H + "default_memory", "128", "less than minimum required 256");
        assertError(c, H + "default_vcpus", "-1", "Please specify positive numeric value");
        assertError(c, H + "default_vcpus", "9", "greater than the number of CPUs 8");
        assertError(c, H + "default_maxvcpus", "16", "greater than the number of CPUs 8");
        assertError(c, H + "disable_block_device_use", "yes", "Please specify boolean value 'true|false'");
        assertError(c, H + "virtio_fs_extra_args", "--foo", "expected a JSON array of strings");
        assertError(c, H + "virtio_fs_extra_args", "[1]", "expected a JSON array of strings");
        assertError(c, H + "virtio_fs_cache", "often", "expected never, metadata, auto or always");
        assertError(c, H + "block_device_driver", "virtio-scsi",
                "incorrect hypervisor configuration on 'block_device_driver'");
        assertError(c, H + "shared_fs", "virtio-9p", "Invalid hypervisor shared file system virtio-9p");
        assertError(c, "io.katacontainers.config.runtime.disable_guest_seccomp", "maybe",
                "Please specify boolean value");
        assertError(c, "io.katacontainers.config.runtime.internetworking_model", "bridge",
                "Unknown network model");
        assertError(c, "io.katacontainers.config.runtime.internetworking_model", "macvtap",
                "the macvtap model is not supported by Podvisor");
        assertError(c, "io.katacontainers.config.runtime.experimental", "x", "Unsupported experimental feature x");
    }

    private static void assertError(PodvisorConfig c, String key, String value, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c, Map.of(key, value),
                8));
        assertTrue(e.getMessage().startsWith("annotation " + key + " = \"" + value + "\": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), () -> e.getMessage() + " does not contain " + expected);
    }

    @Test
    void virtioFsExtraArgsAreAppendedFromJson() {
        PodvisorConfig c = withGate("virtio_fs_extra_args");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(H + "virtio_fs_extra_args",
                "[\"--log-level=debug\", \"-o\", \"no_open\"]"), 8);
        assertEquals(List.of("--thread-pool-size=1", "--announce-submounts", "--log-level=debug", "-o", "no_open"),
                out.clh().virtioFsExtraArgs());
    }

    @Test
    void extraVirtiofsAnnotationAddsDevices() {
        PodvisorConfig c = ConfigLoader.parse("""
                [hypervisor.clh]
                enable_annotations = ["extra_virtiofs"]
                extra_virtiofs = ["base:--cache=always"]
                """, "<t>");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(H + "extra_virtiofs",
                "dev1:-o no_open,cache=none --thread-pool-size=1;dev2:-o 'cache=always' --thread-pool-size=10;"), 8);
        assertEquals(List.of(
                new ExtraVirtiofsDevice("base", List.of("--cache=always")),
                new ExtraVirtiofsDevice("dev1", List.of("-o", "no_open,cache=none", "--thread-pool-size=1")),
                new ExtraVirtiofsDevice("dev2", List.of("-o", "cache=always", "--thread-pool-size=10"))),
                out.clh().extraVirtiofs());

        ConfigException dup = assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c,
                Map.of(H + "extra_virtiofs", "base:-o x"), 8));
        assertEquals("annotation io.katacontainers.config.hypervisor.extra_virtiofs: extra virtio-fs device 'base'"
                + " is declared twice", dup.getMessage());
        ConfigException bad = assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c,
                Map.of(H + "extra_virtiofs", "kataShared:-o x"), 8));
        assertTrue(bad.getMessage().startsWith("annotation io.katacontainers.config.hypervisor.extra_virtiofs: entry"
                + " \"kataShared:-o x\""), bad.getMessage());
    }

    @Test
    void pathAnnotationsMustMatchKataGlobs(@TempDir Path dir) throws IOException {
        Path ch = Files.writeString(dir.resolve("cloud-hypervisor-v40"), "");
        Path vfs = Files.writeString(dir.resolve("virtiofsd"), "");
        PodvisorConfig c = ConfigLoader.parse("[hypervisor.clh]\nenable_annotations = [\"path\", \"virtio_fs_daemon\"]"
                + "\nvalid_hypervisor_paths = [\"" + dir + "/cloud-hypervisor*\"]"
                + "\nvalid_virtio_fs_daemon_paths = [\"" + vfs + "\"]\n", "<t>");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(H + "path", ch.toString(),
                H + "virtio_fs_daemon", vfs.toString()), 8);
        assertEquals(ch.toString(), out.clh().path());
        assertEquals(vfs.toString(), out.clh().virtioFsDaemon());

        // matches the glob but does not exist: Go's filepath.Glob only returns existing files
        String ghost = dir + "/cloud-hypervisor-ghost";
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c,
                Map.of(H + "path", ghost), 8));
        assertTrue(e.getMessage().contains("hypervisor " + ghost + " required from annotation is not valid"),
                e.getMessage());
        assertThrows(ConfigException.class, () -> ConfigAnnotations.apply(c, Map.of(H + "virtio_fs_daemon",
                ch.toString()), 8));
    }

    @Test
    void runtimeAndAgentAnnotationsAreNotGated() {
        PodvisorConfig c = PodvisorConfig.defaults();
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(
                "io.katacontainers.config.runtime.disable_guest_seccomp", "false",
                "io.katacontainers.config.runtime.sandbox_cgroup_only", "true",
                "io.katacontainers.config.runtime.internetworking_model", "none",
                "io.katacontainers.config.runtime.create_container_timeout", "120",
                "io.katacontainers.config.agent.kernel_modules", "e1000e InterruptThrottleRate=3000;i915"), 8);
        assertFalse(out.runtime().disableGuestSeccomp());
        assertTrue(out.runtime().sandboxCgroupOnly());
        assertEquals("none", out.runtime().internetworkingModel());
        assertEquals(120, out.runtime().createContainerTimeoutSeconds());
        assertEquals(List.of("e1000e InterruptThrottleRate=3000", "i915"), out.agent().kernelModules());
    }

    @Test
    void imageAndInitrdAnnotationsReplaceEachOther() {
        PodvisorConfig c = withGate("initrd", "image");
        PodvisorConfig out = ConfigAnnotations.apply(c, Map.of(H + "initrd", "/boot/initrd.img"), 8);
        assertEquals("/boot/initrd.img", out.clh().initrd());
        assertEquals("", out.clh().image());
    }
}
