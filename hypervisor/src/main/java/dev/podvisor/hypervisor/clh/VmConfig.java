package dev.podvisor.hypervisor.clh;

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
}
