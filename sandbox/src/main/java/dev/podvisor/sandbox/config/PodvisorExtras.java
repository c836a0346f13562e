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
 */
public record PodvisorExtras(Path stateDir, Path sharedRoot, Path directVolumesRoot, Path managementDir) {

    /** Kata Go's sandboxes storage path. */
    public static final Path DEFAULT_MANAGEMENT_DIR = Path.of("/run/vc/sbs");

    /** The three directories, with the default {@code management_dir}. */
    public PodvisorExtras(Path stateDir, Path sharedRoot, Path directVolumesRoot) {
        this(stateDir, sharedRoot, directVolumesRoot, DEFAULT_MANAGEMENT_DIR);
    }

    /** @return the defaults, as from an empty {@code [podvisor]} table */
    public static PodvisorExtras defaults() {
        return new PodvisorExtras(Path.of("/run/podvisor"), Path.of("/run/kata-containers/shared/sandboxes"),
                Path.of("/run/kata-containers/shared/direct-volumes"), DEFAULT_MANAGEMENT_DIR);
    }
}
