package dev.podvisor.sandbox.config;

import java.util.List;

/**
 * The {@code [hypervisor.clh]} table of configuration.toml. Key names, units and meanings are Kata's (Go runtime
 * src/runtime/pkg/katautils/config.go, src/runtime/config/configuration-clh.toml.in); defaults are the values
 * Kata's shipped configuration-clh.toml carries (src/runtime/Makefile) unless noted. {@code extra_virtiofs} is
 * Podvisor's. docs/configuration.md lists every key.
 *
 * @param path                     {@code path}: Cloud Hypervisor binary; default {@code /usr/bin/cloud-hypervisor}
 * @param kernel                   {@code kernel}: guest kernel; default
 *                                 {@code /usr/share/kata-containers/vmlinux.container}
 * @param image                    {@code image}: guest root disk image, "" when {@code initrd} is used; default
 *                                 {@code /usr/share/kata-containers/kata-containers.img} when neither is set
 * @param initrd                   {@code initrd}: guest initrd, "" when {@code image} is used; default ""
 * @param rootfsType               {@code rootfs_type}: filesystem of the image, {@code ext4} | {@code xfs} |
 *                                 {@code erofs}; default {@code ext4}
 * @param kernelParams             {@code kernel_params}: extra guest kernel parameters, space separated; default ""
 * @param firmware                 {@code firmware}: firmware path, "" for none; default ""
 * @param machineAccelerators      {@code machine_accelerators}: comma separated, trimmed as Kata does; default ""
 * @param defaultVcpus             {@code default_vcpus}: boot vCPUs as configured (a TOML float is rounded up, as
 *                                 Kata's {@code RoundUpNumVCPUs}); 0 means 1, negative means all host CPUs, see
 *                                 {@link #bootVcpus(int)}; default 1
 * @param defaultMaxVcpus          {@code default_maxvcpus}: vCPU ceiling for hot-plug, 0 = host CPUs, see
 *                                 {@link #maxVcpus(int)}; default 0
 * @param defaultMemoryMib         {@code default_memory}: boot memory in MiB; values below 256 (Kata's
 *                                 {@code MinHypervisorMemory}) become 2048 with a warning, as Kata does; default 2048
 * @param defaultMaxMemoryMib      {@code default_maxmemory}: memory ceiling in MiB, 0 = host RAM; default 0
 * @param memorySlots              {@code memory_slots}: memory hot-plug slots; 0 means 10; default 10
 * @param defaultBridges           {@code default_bridges}: PCI bridges; 0 means 1, above 5 is capped to 5 as Kata
 *                                 does; default 1
 * @param sharedFs                 {@code shared_fs}: always {@code virtio-fs} ({@code none},
 *                                 {@code virtio-fs-nydus} and {@code virtio-9p} are refused)
 * @param virtioFsDaemon           {@code virtio_fs_daemon}: virtiofsd binary; default {@code /usr/libexec/virtiofsd}
 * @param validVirtioFsDaemonPaths {@code valid_virtio_fs_daemon_paths}: globs a {@code virtio_fs_daemon}
 *                                 annotation must match; default [] (the annotation is refused)
 * @param virtioFsCache            {@code virtio_fs_cache}: virtiofsd {@code --cache}; default {@code auto}
 * @param virtioFsCacheSizeMib     {@code virtio_fs_cache_size}: DAX window in MiB, 0 = no DAX; default 0
 * @param virtioFsQueueSize        {@code virtio_fs_queue_size}: virtqueue size (entries); default 1024
 * @param virtioFsExtraArgs        {@code virtio_fs_extra_args}: extra virtiofsd arguments for the default device;
 *                                 default {@code ["--thread-pool-size=1", "--announce-submounts"]}
 * @param blockDeviceDriver        {@code block_device_driver}: always {@code virtio-blk} (runtime-rs's
 *                                 {@code virtio-blk-pci} is read as {@code virtio-blk})
 * @param disableBlockDeviceUse    {@code disable_block_device_use}: never hot-plug a block-device rootfs; default
 *                                 false (Kata's Go Makefile ships true from 3.26.0)
 * @param enableAnnotations        {@code enable_annotations}: regular expressions, matched unanchored (Go
 *                                 {@code regexp.MatchString}) against the suffix of
 *                                 {@code io.katacontainers.config.hypervisor.*} annotations; default [] (all such
 *                                 annotations refused)
 * @param validHypervisorPaths     {@code valid_hypervisor_paths}: globs a {@code path} annotation must match;
 *                                 default []
 * @param enableDebug              {@code enable_debug}: hypervisor debug output; default false
 * @param disableSeccomp           {@code disable_seccomp}: run Cloud Hypervisor with {@code --seccomp false};
 *                                 default false
 * @param hypervisorLoglevel       {@code hypervisor_loglevel}: Cloud Hypervisor verbosity 0..3 (number of
 *                                 {@code -v}); above 3 is capped with a warning; default 1
 * @param extraVirtiofs            {@code extra_virtiofs} (Podvisor): extra virtio-fs devices; default []
 * @param validKernelPaths         {@code valid_kernel_paths}: globs a {@code kernel}, {@code image}, {@code initrd}
 *                                 or {@code firmware} annotation must match; default [] = the directory of the
 *                                 configured file (see {@link BootFileGuard})
 * @param virtioFsDaemonStyle      {@code virtio_fs_daemon_style} (Podvisor): the command line
 *                                 {@code virtio_fs_daemon} takes, {@code rust} (Kata's daemon) or {@code c}
 *                                 (QEMU's); default {@code rust}
 */
public record HypervisorConfig(
        String path,
        String kernel,
        String image,
        String initrd,
        String rootfsType,
        String kernelParams,
        String firmware,
        String machineAccelerators,
        int defaultVcpus,
        int defaultMaxVcpus,
        int defaultMemoryMib,
        long defaultMaxMemoryMib,
        int memorySlots,
        int defaultBridges,
        String sharedFs,
        String virtioFsDaemon,
        List<String> validVirtioFsDaemonPaths,
        VirtioFsCache virtioFsCache,
        int virtioFsCacheSizeMib,
        int virtioFsQueueSize,
        List<String> virtioFsExtraArgs,
        String blockDeviceDriver,
        boolean disableBlockDeviceUse,
        List<String> enableAnnotations,
        List<String> validHypervisorPaths,
        boolean enableDebug,
        boolean disableSeccomp,
        int hypervisorLoglevel,
        List<ExtraVirtiofsDevice> extraVirtiofs,
        List<String> validKernelPaths,
        String virtioFsDaemonStyle) {

    /** {@code virtio_fs_daemon_style} value of the Rust virtiofsd (the default). */
    public static final String DAEMON_STYLE_RUST = "rust";
    /** {@code virtio_fs_daemon_style} value of QEMU's C virtiofsd. */
    public static final String DAEMON_STYLE_C = "c";

    /** {@code shared_fs} value: the only one Podvisor supports. */
    public static final String SHARED_FS_VIRTIO_FS = "virtio-fs";
    /** {@code block_device_driver} value: the only one Cloud Hypervisor supports in Kata's Go runtime. */
    public static final String BLOCK_DRIVER_VIRTIO_BLK = "virtio-blk";
    /** Kata's {@code MinHypervisorMemory} (MiB). */
    public static final int MIN_MEMORY_MIB = 256;

    /** Copies the lists so the record is immutable. */
    public HypervisorConfig {
        validVirtioFsDaemonPaths = List.copyOf(validVirtioFsDaemonPaths);
        virtioFsExtraArgs = List.copyOf(virtioFsExtraArgs);
        enableAnnotations = List.copyOf(enableAnnotations);
        validHypervisorPaths = List.copyOf(validHypervisorPaths);
        extraVirtiofs = List.copyOf(extraVirtiofs);
        validKernelPaths = List.copyOf(validKernelPaths);
    }

    /** @return the defaults, as from an empty {@code [hypervisor.clh]} table */
    public static HypervisorConfig defaults() {
        return new Builder().build();
    }

    /**
     * vCPUs to boot with, following Kata's {@code defaultVCPUs()}: 0 → 1; negative or more than the host has →
     * {@code hostCpus}.
     *
     * @param hostCpus CPUs on the host (e.g. {@code Runtime.availableProcessors()})
     * @return boot vCPUs, at least 1
     */
    public int bootVcpus(int hostCpus) {
        if (defaultVcpus < 0 || defaultVcpus > hostCpus) {
            return hostCpus;
        }
        return defaultVcpus == 0 ? 1 : defaultVcpus;
    }

    /**
     * Maximum vCPUs, following Kata's {@code defaultMaxVCPUs()}: 0 or at least {@code hostCpus} → {@code hostCpus}.
     *
     * @param hostCpus CPUs on the host
     * @return the vCPU ceiling
     */
    public int maxVcpus(int hostCpus) {
        return defaultMaxVcpus == 0 || defaultMaxVcpus >= hostCpus ? hostCpus : defaultMaxVcpus;
    }

    /** @return {@code kernel_params} split on whitespace (no quoting), in order */
    public List<String> kernelParamList() {
        String t = kernelParams.strip();
        return t.isEmpty() ? List.of() : List.of(t.split("\\s+"));
    }

    /** @return a builder holding this record's values */
    Builder toBuilder() {
        Builder b = new Builder();
        b.path = path;
        b.kernel = kernel;
        b.image = image;
        b.initrd = initrd;
        b.rootfsType = rootfsType;
        b.kernelParams = kernelParams;
        b.firmware = firmware;
        b.machineAccelerators = machineAccelerators;
        b.defaultVcpus = defaultVcpus;
        b.defaultMaxVcpus = defaultMaxVcpus;
        b.defaultMemoryMib = defaultMemoryMib;
        b.defaultMaxMemoryMib = defaultMaxMemoryMib;
        b.memorySlots = memorySlots;
        b.defaultBridges = defaultBridges;
        b.sharedFs = sharedFs;
        b.virtioFsDaemon = virtioFsDaemon;
        b.validVirtioFsDaemonPaths = validVirtioFsDaemonPaths;
        b.virtioFsCache = virtioFsCache;
        b.virtioFsCacheSizeMib = virtioFsCacheSizeMib;
        b.virtioFsQueueSize = virtioFsQueueSize;
        b.virtioFsExtraArgs = virtioFsExtraArgs;
        b.blockDeviceDriver = blockDeviceDriver;
        b.disableBlockDeviceUse = disableBlockDeviceUse;
        b.enableAnnotations = enableAnnotations;
        b.validHypervisorPaths = validHypervisorPaths;
        b.enableDebug = enableDebug;
        b.disableSeccomp = disableSeccomp;
        b.hypervisorLoglevel = hypervisorLoglevel;
        b.extraVirtiofs = extraVirtiofs;
        b.validKernelPaths = validKernelPaths;
        b.virtioFsDaemonStyle = virtioFsDaemonStyle;
        return b;
    }

    /** Mutable holder used by the loader and the annotation overlay; starts with the defaults. */
    static final class Builder {
        String path = "/usr/bin/cloud-hypervisor";
        String kernel = "/usr/share/kata-containers/vmlinux.container";
        String image = "/usr/share/kata-containers/kata-containers.img";
        String initrd = "";
        String rootfsType = "ext4";
        String kernelParams = "";
        String firmware = "";
        String machineAccelerators = "";
        int defaultVcpus = 1;
        int defaultMaxVcpus = 0;
        int defaultMemoryMib = 2048;
        long defaultMaxMemoryMib = 0;
        int memorySlots = 10;
        int defaultBridges = 1;
        String sharedFs = SHARED_FS_VIRTIO_FS;
        String virtioFsDaemon = "/usr/libexec/virtiofsd";
        List<String> validVirtioFsDaemonPaths = List.of();
        VirtioFsCache virtioFsCache = VirtioFsCache.AUTO;
        int virtioFsCacheSizeMib = 0;
        int virtioFsQueueSize = 1024;
        List<String> virtioFsExtraArgs = List.of("--thread-pool-size=1", "--announce-submounts");
        String blockDeviceDriver = BLOCK_DRIVER_VIRTIO_BLK;
        boolean disableBlockDeviceUse = false;
        List<String> enableAnnotations = List.of();
        List<String> validHypervisorPaths = List.of();
        boolean enableDebug = false;
        boolean disableSeccomp = false;
        int hypervisorLoglevel = 1;
        List<ExtraVirtiofsDevice> extraVirtiofs = List.of();
        List<String> validKernelPaths = List.of();
        String virtioFsDaemonStyle = DAEMON_STYLE_RUST;

        HypervisorConfig build() {
            return new HypervisorConfig(path, kernel, image, initrd, rootfsType, kernelParams, firmware,
                    machineAccelerators, defaultVcpus, defaultMaxVcpus, defaultMemoryMib, defaultMaxMemoryMib,
                    memorySlots, defaultBridges, sharedFs, virtioFsDaemon, validVirtioFsDaemonPaths, virtioFsCache,
                    virtioFsCacheSizeMib, virtioFsQueueSize, virtioFsExtraArgs, blockDeviceDriver,
                    disableBlockDeviceUse, enableAnnotations, validHypervisorPaths, enableDebug, disableSeccomp,
                    hypervisorLoglevel, extraVirtiofs, validKernelPaths, virtioFsDaemonStyle);
        }
    }
}
