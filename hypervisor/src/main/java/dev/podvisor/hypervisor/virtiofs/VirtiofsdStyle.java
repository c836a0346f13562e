package dev.podvisor.hypervisor.virtiofs;

import java.nio.file.Path;
import java.util.List;

/**
 * Which virtiofsd command line the shim builds: the Rust daemon Kata ships ({@code --shared-dir}, {@code --cache})
 * or QEMU's C daemon ({@code -o source=}, {@code -o cache=}), Debian's only virtiofsd
 * ({@code /usr/lib/qemu/virtiofsd}, package {@code qemu-system-common}). Chosen by
 * {@code [hypervisor.clh] virtio_fs_daemon_style} (docs/configuration.md).
 */
public sealed interface VirtiofsdStyle permits RustVirtiofsdStyle, QemuVirtiofsdStyle {

    /** The Rust daemon (the default, as Kata ships it). */
    VirtiofsdStyle RUST = new RustVirtiofsdStyle();
    /** QEMU's C daemon. */
    VirtiofsdStyle QEMU_C = new QemuVirtiofsdStyle();

    /** The configuration value: {@code rust} or {@code c}. */
    String id();

    /**
     * The daemon's own arguments, before the extra ones.
     *
     * @param socket    the vhost-user socket to create
     * @param sharedDir the directory to share
     * @param kataCache the cache mode in Kata's names: never, metadata, auto, always
     * @return the arguments, without the binary
     */
    List<String> ownArgs(Path socket, Path sharedDir, String kataCache);

    /** Kata's default {@code virtio_fs_extra_args} for this daemon: one thread, submounts announced. */
    List<String> defaultExtraArgs();

    /**
     * The style a configuration value names.
     *
     * @param id {@code rust} or {@code c}
     * @throws IllegalArgumentException for anything else, naming the value
     */
    static VirtiofsdStyle of(String id) {
        for (VirtiofsdStyle style : List.of(RUST, QEMU_C)) {
            if (style.id().equals(id)) {
                return style;
            }
        }
        throw new IllegalArgumentException("virtiofsd style '" + id + "': expected \"rust\" or \"c\"");
    }
}
