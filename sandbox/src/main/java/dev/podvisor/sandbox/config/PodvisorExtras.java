package dev.podvisor.sandbox.config;

import java.nio.file.Path;

/**
 * The {@code [podvisor]} table: settings Kata does not have. All paths are absolute.
 *
 * @param stateDir          {@code state_dir}: shim state, one directory per sandbox ({@code <state_dir>/<sandbox
 *                          id>/}: API socket, hybrid vsock socket, virtiofsd sockets, persisted state); default
 *                          {@code /run/podvisor}
 * @param sharedRoot        {@code shared_root}: host root of the per-sandbox virtio-fs shares
 *                          ({@code <shared_root>/<sandbox id>/rw|ro}); default
 *                          {@code /run/kata-containers/shared/sandboxes} (Kata's {@code defaultKataHostSharedDir})
 * @param directVolumesRoot {@code direct_volumes_root}: where {@code kata-runtime direct-volume add} leaves
 *                          {@code mountInfo.json}; default {@code /run/kata-containers/shared/direct-volumes}
 *                          (Kata's {@code kataDirectVolumeRootPath})
 * @param managementDir     {@code management_dir}: each shim serves its management HTTP API (metrics) on
 *                          {@code <management_dir>/<sandbox id>/shim-monitor.sock}, and {@code podvisor monitor}
 *                          looks for shims there; default {@code /run/vc/sbs} (Kata Go's
 *                          {@code GetSandboxesStoragePath}, where kata-monitor looks)
 * @param maxExtraVirtiofs  {@code max_extra_virtiofs}: how many extra virtio-fs devices (each one virtiofsd
 *                          process) a sandbox may have, from configuration and annotation together; default
 *                          {@value #DEFAULT_MAX_EXTRA_VIRTIOFS}
 * @param maxContainerMounts {@code max_container_mounts}: how many mounts one container's {@code config.json} may
 *                          hold; default {@value #DEFAULT_MAX_CONTAINER_MOUNTS}
 */
public record PodvisorExtras(Path stateDir, Path sharedRoot, Path directVolumesRoot, Path managementDir,
                             int maxExtraVirtiofs, int maxContainerMounts) {

    /** Kata Go's sandboxes storage path. */
    public static final Path DEFAULT_MANAGEMENT_DIR = Path.of("/run/vc/sbs");
    /** Default of {@code max_extra_virtiofs}: each device costs a virtiofsd process and a PCI slot. */
    public static final int DEFAULT_MAX_EXTRA_VIRTIOFS = 8;
    /** Default of {@code max_container_mounts}: far above what Kubernetes pods use, far below what hurts. */
    public static final int DEFAULT_MAX_CONTAINER_MOUNTS = 1024;

    /** Paths only; {@code management_dir} and the limits at their defaults. */
    public PodvisorExtras(Path stateDir, Path sharedRoot, Path directVolumesRoot) {
        this(stateDir, sharedRoot, directVolumesRoot, DEFAULT_MANAGEMENT_DIR, DEFAULT_MAX_EXTRA_VIRTIOFS,
                DEFAULT_MAX_CONTAINER_MOUNTS);
    }

    /** @return the defaults, as from an empty {@code [podvisor]} table */
    public static PodvisorExtras defaults() {
        return new PodvisorExtras(Path.of("/run/podvisor"), Path.of("/run/kata-containers/shared/sandboxes"),
                Path.of("/run/kata-containers/shared/direct-volumes"));
    }
}
