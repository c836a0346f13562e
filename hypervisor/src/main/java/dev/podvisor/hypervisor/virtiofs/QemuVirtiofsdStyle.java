package dev.podvisor.hypervisor.virtiofs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU's C virtiofsd command line (QEMU 7.2 {@code tools/virtiofsd}, as Kata 2.x's Go runtime drove it):
 * {@code --socket-path=<sock> -o source=<dir> -o cache=<none|auto|always>}. The daemon parses options with
 * fuse_opt: {@code --socket-path} takes its value only after {@code =}, and of two {@code -o cache=} the last
 * wins, so a device's own {@code -o cache=} appended later overrides the shim's.
 *
 * <p>Kata's cache names are mapped: {@code never} → {@code none}; {@code auto} and {@code always} are the same;
 * {@code metadata} (metadata and lookups cached for good, data never) → {@code cache=none} (no data cache, direct
 * I/O) with {@code -o timeout=86400}, the attribute and entry timeout the C daemon itself uses for
 * {@code always}.
 */
final class QemuVirtiofsdStyle implements VirtiofsdStyle {

    /** The attribute and entry timeout, in seconds, that stands for "never expires". */
    static final String FOREVER_SECONDS = "86400";

    @Override
    public String id() {
        return "c";
    }

    @Override
    public List<String> ownArgs(Path socket, Path sharedDir, String kataCache) {
        List<String> args = new ArrayList<>(List.of("--socket-path=" + socket, "-o", "source=" + sharedDir));
        switch (kataCache) {
            case "never" -> args.addAll(List.of("-o", "cache=none"));
            case "metadata" -> args.addAll(List.of("-o", "cache=none", "-o", "timeout=" + FOREVER_SECONDS));
            case "auto", "always" -> args.addAll(List.of("-o", "cache=" + kataCache));
            default -> throw new IllegalArgumentException("virtio_fs_cache '" + kataCache
                    + "': expected one of never, metadata, auto, always");
        }
        return List.copyOf(args);
    }

    @Override
    public List<String> defaultExtraArgs() {
        return List.of("--thread-pool-size=1", "-o", "announce_submounts");
    }
}
