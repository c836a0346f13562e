package dev.podvisor.sandbox.config;

/**
 * virtiofsd cache mode, key {@code virtio_fs_cache} of {@code [hypervisor.clh]} and the annotation
 * {@code io.katacontainers.config.hypervisor.virtio_fs_cache}. The values are the ones Kata's Go runtime accepts
 * and passes to virtiofsd as {@code --cache=<value>} (src/runtime/virtcontainers/virtiofsd.go); the Makefile
 * default is {@code auto}.
 */
public enum VirtioFsCache {
    /** Metadata, data and lookups are never cached in the guest. */
    NEVER("never"),
    /** Metadata and lookups are cached and never expire; data is not cached. */
    METADATA("metadata"),
    /** Metadata and lookups expire after a timeout; data is cached while a file is open (close-to-open). */
    AUTO("auto"),
    /** Metadata, data and lookups are cached and never expire. */
    ALWAYS("always");

    private final String tomlName;

    VirtioFsCache(String tomlName) {
        this.tomlName = tomlName;
    }

    /** @return the value as written in configuration.toml and passed to virtiofsd ({@code --cache=auto}) */
    public String tomlName() {
        return tomlName;
    }

    /**
     * @param value a configuration value; {@code none} is accepted as the deprecated spelling of {@code never}, as
     *              runtime-rs does
     * @return the mode, or null when {@code value} is not a cache mode
     */
    static VirtioFsCache fromToml(String value) {
        if ("none".equals(value)) {
            return NEVER;
        }
        for (VirtioFsCache c : values()) {
            if (c.tomlName.equals(value)) {
                return c;
            }
        }
        return null;
    }
}
