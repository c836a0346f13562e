package dev.podvisor.hypervisor.clh;

import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.hypervisor.VmConfigs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Request bodies with every field set, and the ones the product builds, for the JSON parity tests. */
final class ClhSamples {
    private static final Path VM = Path.of("/run/podvisor/sb1");

    private ClhSamples() {
    }

    /** A VmConfig with every field of every nested record set (serial a file, console a socket). */
    static VmConfig rich() {
        return new VmConfig(new PayloadConfig("/k/vmlinux", "quiet \"x\"", "/k/initrd", "/fw/hypervisor-fw"),
                new CpusConfig(2, 8, new CpuTopology(2, 2, 1, 2), 46),
                new MemoryConfig(2L << 30, 8L << 30, 1L << 30, true, "VirtioMem", true, true, 2L << 20, true, false),
                List.of(disk(), DiskConfig.blockDevice("/dev/loop7", true, 2, 1024)),
                List.of(FsConfig.of("kataShared", "/vm/a.sock", 1024), new FsConfig("extra", "/vm/b.sock", 2, 512, 1,
                        "fs-extra")),
                List.of(new PmemConfig("/img/kata.img", 1L << 28, false, true, 0, "_pmem0")),
                new RngConfig("/dev/urandom", true),
                new ConsoleConfig(ConsoleMode.FILE, "/vm/serial.log", null, false),
                new ConsoleConfig(ConsoleMode.SOCKET, null, "/vm/console.sock", true),
                List.of(new DeviceConfig("/sys/bus/pci/devices/0000:3b:00.0", true, 1, "_vfio0"),
                        new DeviceConfig("/sys/bus/pci/devices/0000:3c:00.0", null, null, null)),
                new VsockConfig(3, "/vm/clh.sock", false, 0, "_vsock0"),
                new PlatformConfig(2, List.of(0, 1), "SN-1", "4f0c5a6e-0000-4000-8000-000000000001",
                        List.of("oem1", "oem=2")));
    }

    /** A disk with every field set. */
    static DiskConfig disk() {
        return new DiskConfig("/img/d.qcow2", false, true, false, 4, 256, false, "/vm/vhost.sock", 1, "_disk3",
                "SERIAL-3", "Qcow2", false);
    }

    /** A NIC with every field set (the product never sets tap and fds together; the JSON does not care). */
    static NetConfig net() {
        return new NetConfig("tap3", "10.0.0.1", "255.255.0.0", "02:42:0a:58:00:05", 1400, true, 4, 512, true,
                "Server", "_net3", false, true, false);
    }

    /** Console configs in every mode, as {@code ConsoleConfig.of} makes them. */
    static List<ConsoleConfig> consoles() {
        return List.of(ConsoleMode.values()).stream().map(ConsoleConfig::of).toList();
    }

    /** The sandboxes VmConfigs builds: initrd, debug, image (pmem), several shares, no share. */
    static Map<String, VmConfig> sandboxes() {
        Map<String, VmConfig> out = new LinkedHashMap<>();
        out.put("initrd", VmConfigs.forSandbox(settings(Path.of("/k/initrd.img"), null, false, " agent.log=debug "),
                VM, VmConfigs.virtiofsdSocket(VM, VmConfigs.KATA_SHARED_TAG)));
        out.put("debug", VmConfigs.forSandbox(settings(Path.of("/k/initrd.img"), null, true, ""), VM,
                VmConfigs.virtiofsdSocket(VM, VmConfigs.KATA_SHARED_TAG)));
        Map<String, Path> shares = new LinkedHashMap<>();
        shares.put("kataShared", Path.of("/vm/a.sock"));
        shares.put("zeta", Path.of("/vm/z.sock"));
        out.put("image, two shares", VmConfigs.forSandbox(settings(null, Path.of("/img/kata.img"), true, "x=1"), VM,
                shares));
        out.put("no share", VmConfigs.forSandbox(settings(null, Path.of("/img/kata.img"), false, ""), VM, Map.of()));
        out.put("kata defaults", VmConfigs.forSandbox(HypervisorSettings.kataDefaults(Path.of("/ch"), Path.of("/k"),
                Path.of("/i"), null, Path.of("/v")), VM, Path.of("/vm/fs.sock")));
        return out;
    }

    private static HypervisorSettings settings(Path initrd, Path image, boolean debug, String params) {
        return new HypervisorSettings(Path.of("/usr/bin/cloud-hypervisor"), Path.of("/k/vmlinux"), initrd, image,
                params, 2, 512, Path.of("/usr/libexec/virtiofsd"), null, null, 1024, debug, true);
    }
}
