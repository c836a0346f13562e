package dev.podvisor.hypervisor.virtiofs;

import java.nio.file.Path;
import java.util.List;

/**
 * The Rust virtiofsd command line, as Kata runtime-rs builds it ({@code share_virtio_fs_standalone.rs}):
 * {@code --socket-path <sock> --shared-dir <dir> --cache <never|metadata|auto|always>}. Kata's cache names are the
 * daemon's own.
 */
final class RustVirtiofsdStyle implements VirtiofsdStyle {

    @Override
    public String id() {
        return "rust";
    }

    @Override
    public List<String> ownArgs(Path socket, Path sharedDir, String kataCache) {
        return List.of("--socket-path", socket.toString(), "--shared-dir", sharedDir.toString(), "--cache", kataCache);
    }

    @Override
    public List<String> defaultExtraArgs() {
        return List.of("--thread-pool-size=1", "--announce-submounts");
    }
}
