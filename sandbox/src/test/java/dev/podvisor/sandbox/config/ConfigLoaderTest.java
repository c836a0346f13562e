package dev.podvisor.sandbox.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConfigLoaderTest {

    /** A configuration-clh.toml as Kata ships it (values substituted), plus Podvisor's keys. */
    static final String KATA_CLH_SAMPLE = """
            [hypervisor.clh]
            path = "/opt/kata/bin/cloud-hypervisor"
            kernel = "/opt/kata/share/kata-containers/vmlinux.container"
            image = "/opt/kata/share/kata-containers/kata-containers.img"
            rootfs_type="ext4"
            disable_selinux=false
            disable_guest_selinux=true
            enable_annotations = ["enable_iommu", "virtio_fs_extra_args", "kernel_params"]
            valid_hypervisor_paths = ["/opt/kata/bin/cloud-hypervisor"]
            kernel_params = "cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1"
            default_vcpus = 1
            default_maxvcpus = 0
            default_memory = 2048
            default_maxmemory = 0
            shared_fs = "virtio-fs"
            virtio_fs_daemon = "/opt/kata/libexec/virtiofsd"
            valid_virtio_fs_daemon_paths = ["/opt/kata/libexec/virtiofsd"]
            virtio_fs_cache_size = 0
            virtio_fs_queue_size = 1024
            virtio_fs_extra_args = ["--thread-pool-size=1", "--announce-submounts"]
            virtio_fs_cache = "auto"
            block_device_driver = "virtio-blk"
            disable_image_nvdimm = true
            #enable_debug = true
            #hypervisor_loglevel = 1
            extra_virtiofs = ["nocache:-o cache=none --thread-pool-size=1"]

            [agent.kata]
            dial_timeout = 45

            [runtime]
            internetworking_model="tcfilter"
            disable_guest_seccomp=true
            sandbox_cgroup_only=false
            static_sandbox_resource_mgmt=false
            sandbox_bind_mounts=[]
            vfio_mode="guest-kernel"
            disable_guest_empty_dir=false
            experimental=[]
            create_container_timeout = 60
            dan_conf = "/run/kata-containers/dans"

            [factory]
            enable_template = false

            [podvisor]
            state_dir = "/run/podvisor-test"
            """;

    @Test
    void emptyFileGivesDefaults() {
        PodvisorConfig c = ConfigLoader.parse("", "<empty>");
        PodvisorConfig d = PodvisorConfig.defaults();
        assertEquals(d.clh(), c.clh());
        assertEquals(d.agent(), c.agent());
        assertEquals(d.runtime(), c.runtime());
        assertEquals(d.podvisor(), c.podvisor());
        assertEquals(List.of(), c.unknownKeys());
        assertEquals(List.of(), c.warnings());
        HypervisorConfig h = c.clh();
        assertEquals(1, h.defaultVcpus());
        assertEquals(2048, h.defaultMemoryMib());
        assertEquals("virtio-fs", h.sharedFs());
        assertEquals(VirtioFsCache.AUTO, h.virtioFsCache());
        assertEquals(0, h.virtioFsCacheSizeMib());
        assertEquals(1024, h.virtioFsQueueSize());
        assertEquals(List.of("--thread-pool-size=1", "--announce-submounts"), h.virtioFsExtraArgs());
        assertEquals("virtio-blk", h.blockDeviceDriver());
        assertFalse(h.disableBlockDeviceUse());
        assertEquals(List.of(), h.enableAnnotations());
        assertEquals(45, c.agent().dialTimeoutSeconds());
        assertEquals(EmptyDirMode.SHARED_FS, c.runtime().emptydirMode());
        assertEquals("tcfilter", c.runtime().internetworkingModel());
        assertEquals(Path.of("/run/podvisor"), c.podvisor().stateDir());
        assertEquals(Path.of("/run/kata-containers/shared/sandboxes"), c.podvisor().sharedRoot());
        assertEquals(Path.of("/run/kata-containers/shared/direct-volumes"), c.podvisor().directVolumesRoot());
    }

    @Test
    void kataClhSampleParses() {
        PodvisorConfig c = ConfigLoader.parse(KATA_CLH_SAMPLE, "<sample>");
        HypervisorConfig h = c.clh();
        assertEquals("/opt/kata/bin/cloud-hypervisor", h.path());
        assertEquals("/opt/kata/share/kata-containers/kata-containers.img", h.image());
        assertEquals("", h.initrd());
        assertEquals(List.of("cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1"), h.kernelParamList());
        assertEquals("/opt/kata/libexec/virtiofsd", h.virtioFsDaemon());
        assertEquals(List.of("enable_iommu", "virtio_fs_extra_args", "kernel_params"), h.enableAnnotations());
        assertEquals(List.of(new ExtraVirtiofsDevice("nocache", List.of("-o", "cache=none", "--thread-pool-size=1"))),
                h.extraVirtiofs());
        assertEquals(45, c.agent().dialTimeoutSeconds());
        assertTrue(c.runtime().disableGuestSeccomp());
        assertEquals(60, c.runtime().createContainerTimeoutSeconds());
        assertEquals(Path.of("/run/podvisor-test"), c.podvisor().stateDir());
        assertEquals(List.of(), c.unknownKeys());
        assertTrue(c.ignoredKeys().containsAll(List.of("[hypervisor.clh] disable_selinux",
                "[hypervisor.clh] disable_guest_selinux", "[hypervisor.clh] disable_image_nvdimm",
                "[runtime] vfio_mode", "[factory] enable_template")), c.ignoredKeys().toString());
    }

    @Test
    void unknownKeysAreListedNotFatal() {
        PodvisorConfig c = ConfigLoader.parse("""
                top = 1
                [hypervisor.clh]
                no_such_key = true
                [runtime]
                also_unknown = "x"
                [agent.other]
                x = 1
                [weird]
                y = 2
                """, "<t>");
        assertEquals(List.of("[hypervisor.clh] no_such_key", "[agent.other]", "[runtime] also_unknown", "top",
                "[weird]"), c.unknownKeys());
        assertEquals(PodvisorConfig.defaults().clh(), c.clh());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            [hypervisor.clh]\\ndefault_memory = "lots"      | [hypervisor.clh] default_memory = "lots": expected an integer number of MiB
            [hypervisor.clh]\\ndefault_memory = -1          | [hypervisor.clh] default_memory = -1: expected an integer number of MiB between 0
            [hypervisor.clh]\\ndefault_memory = 1.5         | [hypervisor.clh] default_memory = 1.5: expected an integer number of MiB
            [hypervisor.clh]\\ndefault_vcpus = "2"          | [hypervisor.clh] default_vcpus = "2": expected a number of vCPUs
            [hypervisor.clh]\\nenable_debug = "yes"         | [hypervisor.clh] enable_debug = "yes": expected true or false
            [hypervisor.clh]\\nenable_debug = 1             | [hypervisor.clh] enable_debug = 1: expected true or false
            [hypervisor.clh]\\npath = 5                     | [hypervisor.clh] path = 5: expected a string
            [hypervisor.clh]\\nvirtio_fs_extra_args = "-d"  | [hypervisor.clh] virtio_fs_extra_args = "-d": expected an array of strings
            [hypervisor.clh]\\nvirtio_fs_extra_args = [1]   | [hypervisor.clh] virtio_fs_extra_args = [1]: expected an array of strings, found element 1
            [hypervisor.clh]\\nvirtio_fs_cache = "often"    | [hypervisor.clh] virtio_fs_cache = "often": expected "never", "metadata", "auto" or "always"
            [hypervisor.clh]\\nvirtio_fs_queue_size = 1000  | [hypervisor.clh] virtio_fs_queue_size = 1000: expected a power-of-two
            [hypervisor.clh]\\nblock_device_driver = "virtio-scsi" | [hypervisor.clh] block_device_driver = "virtio-scsi": incorrect hypervisor configuration on 'block_device_driver'
            [hypervisor.clh]\\nshared_fs = "virtio-fs-nydus" | [hypervisor.clh] shared_fs = "virtio-fs-nydus": nydus is not supported
            [hypervisor.clh]\\nshared_fs = "none"           | [hypervisor.clh] shared_fs = "none": Podvisor needs a shared file system
            [hypervisor.clh]\\nshared_fs = "virtio-9p"      | [hypervisor.clh] shared_fs = "virtio-9p": Cloud Hypervisor does not support virtio-9p
            [hypervisor.clh]\\nvirtio_fs_daemon = ""        | [hypervisor.clh] virtio_fs_daemon = "": cannot enable virtio-fs without daemon path
            [hypervisor.clh]\\nrootfs_type = "btrfs"        | [hypervisor.clh] rootfs_type = "btrfs": expected "ext4", "xfs" or "erofs"
            [hypervisor.clh]\\nimage = "/a"\\ninitrd = "/b" | [hypervisor.clh] initrd = "/b": image and initrd are both set
            [hypervisor.clh]\\nimage = ""                   | image or initrd must be defined in the configuration file
            [hypervisor.clh]\\nenable_annotations = ["("]   | [hypervisor.clh] enable_annotations = ["("]: entry "(" is not a valid regular expression
            [hypervisor.clh]\\nextra_virtiofs = ["nocolon"] | [hypervisor.clh] extra_virtiofs: entry "nocolon": expected <name>:<virtiofsd args>
            [hypervisor.qemu]\\npath = "/usr/bin/qemu"      | [hypervisor.qemu]: Podvisor runs Cloud Hypervisor only
            [hypervisor.foo]                                | configuration file contains invalid hypervisor section: "foo"
            hypervisor = 1                                  | hypervisor = 1: expected a table
            [agent.kata]\\ndial_timeout = "45"              | [agent.kata] dial_timeout = "45": expected a non-negative integer number of seconds
            [agent.kata]\\nkernel_modules = "e1000"         | [agent.kata] kernel_modules = "e1000": expected an array of strings
            [runtime]\\nemptydir_mode = "block-encrypted"   | [runtime] emptydir_mode = "block-encrypted": block-encrypted emptyDir is not supported by Podvisor
            [runtime]\\nemptydir_mode = "tmpfs"             | [runtime] emptydir_mode = "tmpfs": invalid emptydir_mode="tmpfs", allowed values: "shared-fs", "block-encrypted", "block-plain"
            [runtime]\\ninternetworking_model = "bridged"   | [runtime] internetworking_model = "bridged": expected "tcfilter" or "none" (Kata also knows "macvtap", which Podvisor does not support)
            [runtime]\\ninternetworking_model = "macvtap"   | [runtime] internetworking_model = "macvtap": the macvtap model is not supported by Podvisor; use "tcfilter" (the default) or "none"
            [runtime]\\ndisable_new_netns = true            | [runtime] disable_new_netns = true: config disable_new_netns only works with 'none' internetworking_model
            [runtime]\\nexperimental = ["newstore"]         | [runtime] experimental = ["newstore"]: Unsupported experimental feature "newstore"
            [runtime]\\nsandbox_cgroup_only = "true"        | [runtime] sandbox_cgroup_only = "true": expected true or false
            [podvisor]\\nstate_dir = "run/podvisor"         | [podvisor] state_dir = "run/podvisor": expected an absolute path
            """)
    void badValueNamesKeyAndValue(String toml, String expected) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse(toml.replace("\\n", "\n"), "<bad>"));
        assertTrue(e.getMessage().startsWith("<bad>: "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), () -> "message: " + e.getMessage() + "\nexpected: " + expected);
    }

    @Test
    void invalidTomlNamesTheFile(@TempDir Path dir) throws IOException {
        Path f = Files.writeString(dir.resolve("configuration.toml"), "[hypervisor.clh\npath = 1\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadFile(f));
        assertTrue(e.getMessage().startsWith(f + ": invalid TOML"), e.getMessage());
    }

    @Test
    void kataLenientValuesBecomeWarnings() {
        PodvisorConfig c = ConfigLoader.parse("""
                [hypervisor.clh]
                default_memory = 128
                hypervisor_loglevel = 7
                default_bridges = 9
                virtio_fs_cache = "none"
                memory_slots = 0
                block_device_driver = "virtio-blk-pci"
                machine_accelerators = " a, ,b "
                """, "<t>");
        assertEquals(2048, c.clh().defaultMemoryMib());
        assertEquals(3, c.clh().hypervisorLoglevel());
        assertEquals(5, c.clh().defaultBridges());
        assertEquals(VirtioFsCache.NEVER, c.clh().virtioFsCache());
        assertEquals(10, c.clh().memorySlots());
        assertEquals("virtio-blk", c.clh().blockDeviceDriver());
        assertEquals("a,b", c.clh().machineAccelerators());
        assertEquals(4, c.warnings().size(), c.warnings().toString());
        assertTrue(c.warnings().getFirst().contains("[hypervisor.clh] default_memory = 128"));
    }

    @Test
    void vcpusFollowKataRules() {
        HypervisorConfig h = ConfigLoader.parse("[hypervisor.clh]\ndefault_vcpus = 1.5\n", "<t>").clh();
        assertEquals(2, h.defaultVcpus());
        assertEquals(2, h.bootVcpus(8));
        HypervisorConfig all = ConfigLoader.parse("[hypervisor.clh]\ndefault_vcpus = -1\ndefault_maxvcpus = 4\n",
                "<t>").clh();
        assertEquals(8, all.bootVcpus(8));
        assertEquals(4, all.maxVcpus(8));
        assertEquals(2, all.maxVcpus(2));
        assertEquals(1, ConfigLoader.parse("[hypervisor.clh]\ndefault_vcpus = 0\n", "<t>").clh().bootVcpus(8));
        assertEquals(8, PodvisorConfig.defaults().clh().maxVcpus(8));
    }

    @Test
    void initrdReplacesDefaultImage() {
        HypervisorConfig h = ConfigLoader.parse("[hypervisor.clh]\ninitrd = \"/boot/initrd\"\n", "<t>").clh();
        assertEquals("/boot/initrd", h.initrd());
        assertEquals("", h.image());
    }

    // ---- search order ----

    private static Path write(Path p, String text) throws IOException {
        Files.createDirectories(p.getParent());
        return Files.writeString(p, text);
    }

    private static String memory(int mib) {
        return "[hypervisor.clh]\ndefault_memory = " + mib + "\n";
    }

    @Test
    void searchOrderFollowsKata(@TempDir Path dir) throws IOException {
        Path etc = write(dir.resolve("etc/configuration.toml"), memory(1001));
        Path usr = write(dir.resolve("usr/configuration.toml"), memory(1002));
        Path env = write(dir.resolve("env/configuration.toml"), memory(1003));
        Path opt = write(dir.resolve("opt/configuration.toml"), memory(1004));
        ConfigLoader loader = new ConfigLoader(etc, usr);
        Map<String, String> withEnv = Map.of(ConfigLoader.KATA_CONF_FILE, env.toString());

        assertEquals(1004, loader.load(Optional.of(opt), withEnv).clh().defaultMemoryMib());
        assertEquals(1003, loader.load(Optional.empty(), withEnv).clh().defaultMemoryMib());
        assertEquals(1003, loader.load(Optional.of(Path.of("")), withEnv).clh().defaultMemoryMib());
        assertEquals(1001, loader.load(Optional.empty(), Map.of()).clh().defaultMemoryMib());
        assertEquals(1001, loader.load(Optional.empty(), Map.of(ConfigLoader.KATA_CONF_FILE, "")).clh()
                .defaultMemoryMib());
        Files.delete(etc);
        PodvisorConfig fromUsr = loader.load(Optional.empty(), Map.of());
        assertEquals(1002, fromUsr.clh().defaultMemoryMib());
        assertEquals(Optional.of(usr.toRealPath()), fromUsr.origin().file());
    }

    @Test
    void missingExplicitFileIsNamed(@TempDir Path dir) throws IOException {
        Path etc = write(dir.resolve("etc/configuration.toml"), "");
        ConfigLoader loader = new ConfigLoader(etc, dir.resolve("usr/configuration.toml"));
        Path missing = dir.resolve("nope.toml");
        ConfigException a = assertThrows(ConfigException.class, () -> loader.load(Optional.of(missing), Map.of()));
        assertEquals("configuration file " + missing + " (from the CRI runtime options ConfigPath) does not exist",
                a.getMessage());
        ConfigException b = assertThrows(ConfigException.class,
                () -> loader.load(Optional.empty(), Map.of("KATA_CONF_FILE", missing.toString())));
        assertEquals("configuration file " + missing + " (from environment variable KATA_CONF_FILE) does not exist",
                b.getMessage());
    }

    @Test
    void noDefaultFileListsWhatWasTried(@TempDir Path dir) {
        Path etc = dir.resolve("etc/configuration.toml");
        Path usr = dir.resolve("usr/configuration.toml");
        ConfigException e = assertThrows(ConfigException.class,
                () -> new ConfigLoader(etc, usr).load(Optional.empty(), Map.of()));
        assertTrue(e.getMessage().contains("\"" + etc + "\", \"" + usr + "\""), e.getMessage());
    }

    @Test
    void dropInsMergeInNameOrder(@TempDir Path dir) throws IOException {
        Path main = write(dir.resolve("configuration.toml"), """
                [hypervisor.clh]
                default_memory = 1024
                default_vcpus = 2
                [runtime]
                sandbox_cgroup_only = false
                """);
        write(dir.resolve("config.d/20-b.toml"), "[hypervisor.clh]\ndefault_memory = 4096\n");
        write(dir.resolve("config.d/10-a.toml"), "[hypervisor.clh]\ndefault_memory = 3072\n[runtime]\n"
                + "sandbox_cgroup_only = true\n");
        PodvisorConfig c = ConfigLoader.loadFile(main);
        assertEquals(4096, c.clh().defaultMemoryMib());
        assertEquals(2, c.clh().defaultVcpus());
        assertTrue(c.runtime().sandboxCgroupOnly());
        assertEquals(List.of(dir.resolve("config.d/10-a.toml"), dir.resolve("config.d/20-b.toml")),
                c.origin().dropIns());

        Path bad = write(dir.resolve("config.d/30-bad.toml"), "[hypervisor.clh]\ndefault_memory = \"big\"\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.loadFile(main));
        assertEquals(bad + ": [hypervisor.clh] default_memory = \"big\": expected an integer number of MiB",
                e.getMessage());
        Files.delete(bad);
        write(main, "[runtime]\nenable_pprof = 1\n");
        ConfigException inMain = assertThrows(ConfigException.class, () -> ConfigLoader.loadFile(main));
        assertTrue(inMain.getMessage().startsWith(main + " (with drop-ins "), inMain.getMessage());
    }

    // ---- validatePaths ----

    private static Path exe(Path p) throws IOException {
        write(p, "#!/bin/sh\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void validatePathsNamesKeyAndPath(@TempDir Path dir) throws IOException {
        Path ch = exe(dir.resolve("cloud-hypervisor"));
        Path vfs = exe(dir.resolve("virtiofsd"));
        Path kernel = write(dir.resolve("vmlinux"), "k");
        Path image = write(dir.resolve("image.img"), "i");
        String base = "[hypervisor.clh]\npath = \"" + ch + "\"\nvirtio_fs_daemon = \"" + vfs + "\"\nkernel = \""
                + kernel + "\"\nimage = \"" + image + "\"\n";
        ConfigLoader.parse(base, "<ok>").validatePaths();

        Path missingKernel = dir.resolve("no-vmlinux");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                base.replace(kernel.toString(), missingKernel.toString()), "<t>").validatePaths());
        assertEquals("<t>: [hypervisor.clh] kernel = \"" + missingKernel + "\": no such file", e.getMessage());

        ConfigException notExe = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                base.replace(vfs.toString(), kernel.toString()), "<t>").validatePaths());
        assertTrue(notExe.getMessage().endsWith("[hypervisor.clh] virtio_fs_daemon = \"" + kernel
                + "\": not executable"), notExe.getMessage());

        ConfigException dirPath = assertThrows(ConfigException.class, () -> ConfigLoader.parse(
                base.replace(ch.toString(), dir.toString()), "<t>").validatePaths());
        assertTrue(dirPath.getMessage().endsWith("[hypervisor.clh] path = \"" + dir + "\": not a regular file"),
                dirPath.getMessage());
    }

    @Test
    void validatePathsUsesTheFileNameWhenLoadedFromAFile(@TempDir Path dir) throws IOException {
        Path f = write(dir.resolve("configuration.toml"), "[hypervisor.clh]\npath = \"/nonexistent/ch\"\n");
        PodvisorConfig c = ConfigLoader.loadFile(f);
        ConfigException e = assertThrows(ConfigException.class, c::validatePaths);
        assertEquals(f + ": [hypervisor.clh] path = \"/nonexistent/ch\": no such file", e.getMessage());
    }
}
