package dev.podvisor.sandbox.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where a {@link PodvisorConfig} came from and what the loader had to say about it. Kata's TOML decoding ignores
 * keys it does not know; Podvisor does the same but lists them, so the shim can log one warning per key.
 *
 * @param name        how messages name the source: the file, with its drop-ins, or the name given to
 *                    {@link ConfigLoader#parse}, or {@code <built-in>}
 * @param file        the configuration file read (symlinks resolved), empty for built-in defaults or parsed text
 * @param dropIns     the {@code config.d/} drop-in files applied after it, in order
 * @param unknownKeys keys neither Kata nor Podvisor knows, as {@code [table] key}; ignored
 * @param ignoredKeys Kata keys that Podvisor reads past without using (e.g. {@code [hypervisor.clh]
 *                    enable_hugepages}), as {@code [table] key}
 * @param warnings    other warnings: values Kata silently replaces (memory below 256 MiB, log level above 3,
 *                    {@code virtio_fs_cache = "none"}), in order
 */
public record ConfigOrigin(String name, Optional<Path> file, List<Path> dropIns, List<String> unknownKeys,
                           List<String> ignoredKeys, List<String> warnings) {

    /** Copies the lists so the record is immutable. */
    public ConfigOrigin {
        dropIns = List.copyOf(dropIns);
        unknownKeys = List.copyOf(unknownKeys);
        ignoredKeys = List.copyOf(ignoredKeys);
        warnings = List.copyOf(warnings);
    }

    /** @return the origin of built-in defaults: no file, nothing to report */
    public static ConfigOrigin builtIn() {
        return new ConfigOrigin("<built-in>", Optional.empty(), List.of(), List.of(), List.of(), List.of());
    }

    /** @return {@link #name()}, for messages */
    public String describe() {
        return name;
    }
}
