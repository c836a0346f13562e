package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.List;

/**
 * The body of {@code PUT vm.create} and {@code VmInfo.config} (OpenAPI {@code VmConfig}); only
 * {@code payload} is required by Cloud Hypervisor. Null fields are left out of the JSON. Keys Podvisor does
 * not model (net, numa, balloon, …) are ignored when reading {@code vm.info}.
 *
 * @param payload  kernel, cmdline, initramfs
 * @param cpus     vCPUs, or null
 * @param memory   memory, or null
 * @param disks    virtio-blk disks, or null
 * @param fs       virtio-fs devices, or null
 * @param pmem     virtio-pmem devices, or null
 * @param rng      entropy device, or null
 * @param serial   serial port, or null
 * @param console  virtio-console, or null
 * @param devices  VFIO devices, or null
 * @param vsock    hybrid vsock device, or null
 * @param platform platform options, or null
 */
public record VmConfig(PayloadConfig payload, CpusConfig cpus, MemoryConfig memory, List<DiskConfig> disks,
                       List<FsConfig> fs, List<PmemConfig> pmem, RngConfig rng, ConsoleConfig serial,
                       ConsoleConfig console, List<DeviceConfig> devices, VsockConfig vsock,
                       PlatformConfig platform) {

    /**
     * The {@code vm.create} body.
     *
     * @return {@code {payload, cpus, memory, disks [], fs [], pmem [], rng, serial, console, devices [], vsock,
     *         platform}} with snake_case keys as Cloud Hypervisor's openapi spells them, nulls left out
     */
    public ObjectNode toJson() {
        return new ClhObject().put("payload", payload, PayloadConfig::toJson).put("cpus", cpus, CpusConfig::toJson)
                .put("memory", memory, MemoryConfig::toJson).putList("disks", disks, DiskConfig::toJson)
                .putList("fs", fs, FsConfig::toJson).putList("pmem", pmem, PmemConfig::toJson)
                .put("rng", rng, RngConfig::toJson).put("serial", serial, ConsoleConfig::toJson)
                .put("console", console, ConsoleConfig::toJson).putList("devices", devices, DeviceConfig::toJson)
                .put("vsock", vsock, VsockConfig::toJson).put("platform", platform, PlatformConfig::toJson).node();
    }

    /**
     * Reads {@link #toJson()}'s shape, as {@code vm.info} reports it; keys not modelled are ignored.
     *
     * @param json the object
     * @param at   its path in the answer, for error messages (e.g. {@code config})
     * @return the config
     * @throws IOException when a value has the wrong type, naming its path
     */
    static VmConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new VmConfig(f.get("payload", PayloadConfig::fromJson), f.get("cpus", CpusConfig::fromJson),
                f.get("memory", MemoryConfig::fromJson), f.list("disks", DiskConfig::fromJson),
                f.list("fs", FsConfig::fromJson), f.list("pmem", PmemConfig::fromJson),
                f.get("rng", RngConfig::fromJson), f.get("serial", ConsoleConfig::fromJson),
                f.get("console", ConsoleConfig::fromJson), f.list("devices", DeviceConfig::fromJson),
                f.get("vsock", VsockConfig::fromJson), f.get("platform", PlatformConfig::fromJson));
    }
}
