package dev.podvisor.sandbox.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Podvisor's whole configuration: a Kata-compatible configuration.toml ({@code [hypervisor.clh]},
 * {@code [agent.kata]}, {@code [runtime]}) plus Podvisor's own {@code [podvisor]} table. Immutable; obtain it from
 * {@link ConfigLoader#load}, then overlay pod annotations with {@link ConfigAnnotations#apply}, then call
 * {@link #validatePaths()} before starting a VM ({@code podvisor plan} skips that step).
 *
 * @param clh      {@code [hypervisor.clh]}
 * @param agent    {@code [agent.kata]}
 * @param runtime  {@code [runtime]}
 * @param podvisor {@code [podvisor]}
 * @param origin   the file it came from, unknown and ignored keys, warnings
 */
public record PodvisorConfig(HypervisorConfig clh, AgentConfig agent, RuntimeConfig runtime,
                             PodvisorExtras podvisor, ConfigOrigin origin) {

    /** @return the configuration an empty file gives */
    public static PodvisorConfig defaults() {
        return new PodvisorConfig(HypervisorConfig.defaults(), AgentConfig.defaults(), RuntimeConfig.defaults(),
                PodvisorExtras.defaults(), ConfigOrigin.builtIn());
    }

    /** @return keys neither Kata nor Podvisor knows, as {@code [table] key} (ignored, to be logged as warnings) */
    public List<String> unknownKeys() {
        return origin.unknownKeys();
    }

    /** @return Kata keys Podvisor does not use, as {@code [table] key} */
    public List<String> ignoredKeys() {
        return origin.ignoredKeys();
    }

    /** @return other load-time warnings, in order */
    public List<String> warnings() {
        return origin.warnings();
    }

    /**
     * Checks that the files a VM needs exist: {@code path} and {@code virtio_fs_daemon} are executable files,
     * {@code kernel} and whichever of {@code image} / {@code initrd} is set (and {@code firmware} when set) are
     * readable regular files. Symlinks are followed.
     *
     * @throws ConfigException naming the first offending key and its path, e.g.
     *                         {@code [hypervisor.clh] kernel = "/x/vmlinux": no such file}
     */
    public void validatePaths() {
        requireFile("path", clh.path(), true);
        requireFile("kernel", clh.kernel(), false);
        if (!clh.image().isEmpty()) {
            requireFile("image", clh.image(), false);
        }
        if (!clh.initrd().isEmpty()) {
            requireFile("initrd", clh.initrd(), false);
        }
        if (!clh.firmware().isEmpty()) {
            requireFile("firmware", clh.firmware(), false);
        }
        requireFile("virtio_fs_daemon", clh.virtioFsDaemon(), true);
    }

    private void requireFile(String key, String value, boolean executable) {
        String where = origin.describe() + ": [hypervisor.clh] " + key + " = \"" + value + "\": ";
        if (value.isEmpty()) {
            throw new ConfigException(where + "must be set");
        }
        Path p = Path.of(value);
        if (!Files.exists(p)) {
            throw new ConfigException(where + "no such file");
        }
        if (!Files.isRegularFile(p)) {
            throw new ConfigException(where + "not a regular file");
        }
        if (executable ? !Files.isExecutable(p) : !Files.isReadable(p)) {
            throw new ConfigException(where + (executable ? "not executable" : "not readable"));
        }
    }
}
