package dev.podvisor.hypervisor;

import dev.podvisor.hypervisor.virtiofs.VirtiofsdStyle;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What the sandbox passes in from {@code configuration.toml} {@code [hypervisor.clh]} (Kata's key in brackets).
 * Validated on construction; each error names the key and the value.
 *
 * @param path              cloud-hypervisor binary ({@code path})
 * @param kernel            guest kernel ({@code kernel})
 * @param initrd            guest initrd ({@code initrd}), or null when {@code image} is set
 * @param image             guest rootfs image ({@code image}), or null when {@code initrd} is set
 * @param kernelParams      extra kernel parameters, space separated ({@code kernel_params}); null = none
 * @param defaultVcpus      boot vCPUs ({@code default_vcpus}), ≥ 1
 * @param defaultMemoryMiB  boot memory in MiB ({@code default_memory}), ≥ 1
 * @param virtioFsDaemon    virtiofsd binary ({@code virtio_fs_daemon})
 * @param virtioFsCache     virtiofsd {@code --cache} mode ({@code virtio_fs_cache}): auto, always, metadata,
 *                          never; null = auto
 * @param virtioFsExtraArgs extra virtiofsd arguments ({@code virtio_fs_extra_args}); null = Kata's default for
 *                          the style ({@link VirtiofsdStyle#defaultExtraArgs()})
 * @param virtioFsQueueSize virtio-fs queue size ({@code virtio_fs_queue_size}), ≥ 1; Kata default 1024
 * @param debug             debug output ({@code enable_debug}): {@code -v}, serial console on the VMM's stdout,
 *                          debug kernel parameters
 * @param seccomp           Cloud Hypervisor's seccomp filter on (Kata {@code disable_seccomp = false});
 *                          false adds {@code --seccomp false}
 * @param virtiofsdStyle    the command line {@code virtioFsDaemon} takes ({@code virtio_fs_daemon_style},
 *                          Podvisor's); null = Rust
 */
public record HypervisorSettings(Path path, Path kernel, Path initrd, Path image, String kernelParams,
                                 int defaultVcpus, int defaultMemoryMiB, Path virtioFsDaemon, String virtioFsCache,
                                 List<String> virtioFsExtraArgs, int virtioFsQueueSize, boolean debug,
                                 boolean seccomp, VirtiofsdStyle virtiofsdStyle) {

    /** Settings for the Rust virtiofsd. */
    public HypervisorSettings(Path path, Path kernel, Path initrd, Path image, String kernelParams, int defaultVcpus,
                              int defaultMemoryMiB, Path virtioFsDaemon, String virtioFsCache,
                              List<String> virtioFsExtraArgs, int virtioFsQueueSize, boolean debug, boolean seccomp) {
        this(path, kernel, initrd, image, kernelParams, defaultVcpus, defaultMemoryMiB, virtioFsDaemon, virtioFsCache,
                virtioFsExtraArgs, virtioFsQueueSize, debug, seccomp, VirtiofsdStyle.RUST);
    }

    /** Kata's default {@code virtio_fs_extra_args}. */
    public static final List<String> DEFAULT_VIRTIO_FS_EXTRA_ARGS = VirtiofsdStyle.RUST.defaultExtraArgs();
    /** Kata's default {@code virtio_fs_queue_size}. */
    public static final int DEFAULT_VIRTIO_FS_QUEUE_SIZE = 1024;
    /** Kata's default {@code virtio_fs_cache}. */
    public static final String DEFAULT_VIRTIO_FS_CACHE = "auto";
    /** The cache modes of the Rust virtiofsd. */
    public static final Set<String> VIRTIO_FS_CACHE_MODES = Set.of("auto", "always", "metadata", "never");

    /**
     * Validates and fills defaults.
     *
     * @throws IllegalArgumentException naming the key and the value on bad input
     */
    public HypervisorSettings {
        if (path == null) {
            throw new IllegalArgumentException("[hypervisor.clh] path: missing");
        }
        if (kernel == null) {
            throw new IllegalArgumentException("[hypervisor.clh] kernel: missing");
        }
        if (initrd != null && image != null) {
            throw new IllegalArgumentException("[hypervisor.clh] image '" + image + "' and initrd '" + initrd
                    + "': cannot set both image and initrd at the same time");
        }
        if (initrd == null && image == null) {
            throw new IllegalArgumentException("[hypervisor.clh] image and initrd: missing, one is needed");
        }
        kernelParams = kernelParams == null ? "" : kernelParams.strip();
        if (defaultVcpus < 1) {
            throw new IllegalArgumentException("[hypervisor.clh] default_vcpus " + defaultVcpus + ": must be ≥ 1");
        }
        if (defaultMemoryMiB < 1) {
            throw new IllegalArgumentException("[hypervisor.clh] default_memory " + defaultMemoryMiB
                    + ": must be ≥ 1 MiB");
        }
        if (virtioFsDaemon == null) {
            throw new IllegalArgumentException("[hypervisor.clh] virtio_fs_daemon: missing");
        }
        virtioFsCache = virtioFsCache == null || virtioFsCache.isEmpty() ? DEFAULT_VIRTIO_FS_CACHE : virtioFsCache;
        if (!VIRTIO_FS_CACHE_MODES.contains(virtioFsCache)) {
            throw new IllegalArgumentException("[hypervisor.clh] virtio_fs_cache '" + virtioFsCache
                    + "': expected one of auto, always, metadata, never");
        }
        virtiofsdStyle = virtiofsdStyle == null ? VirtiofsdStyle.RUST : virtiofsdStyle;
        virtioFsExtraArgs = virtioFsExtraArgs == null ? virtiofsdStyle.defaultExtraArgs() : List.copyOf(virtioFsExtraArgs);
        if (virtioFsQueueSize < 1) {
            throw new IllegalArgumentException("[hypervisor.clh] virtio_fs_queue_size " + virtioFsQueueSize
                    + ": must be ≥ 1");
        }
    }

    /**
     * Settings with Kata's defaults for everything but the paths: 1 vCPU, 2048 MiB, cache auto, default extra
     * args, queue size 1024, no debug, seccomp on.
     *
     * @param path           cloud-hypervisor binary
     * @param kernel         guest kernel
     * @param initrd         guest initrd, or null
     * @param image          guest image, or null
     * @param virtioFsDaemon virtiofsd binary
     * @return the settings
     * @throws IllegalArgumentException as the canonical constructor
     */
    public static HypervisorSettings kataDefaults(Path path, Path kernel, Path initrd, Path image,
                                                  Path virtioFsDaemon) {
        return new HypervisorSettings(path, kernel, initrd, image, "", 1, 2048, Objects.requireNonNull(
                virtioFsDaemon, "virtioFsDaemon"), DEFAULT_VIRTIO_FS_CACHE, null, DEFAULT_VIRTIO_FS_QUEUE_SIZE,
                false, true);
    }
}
