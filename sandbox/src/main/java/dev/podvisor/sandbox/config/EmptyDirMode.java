package dev.podvisor.sandbox.config;

/**
 * How a Kubernetes disk-backed emptyDir reaches the guest, key {@code emptydir_mode} of {@code [runtime]} (Kata Go
 * 3.28.0+, {@code block-plain} from 4.0.0). Kata's third value, {@code block-encrypted}, is refused by Podvisor with
 * a named error: encrypted emptyDir needs the confidential-guest key path, which Podvisor does not implement.
 */
public enum EmptyDirMode {
    /** Default: the emptyDir is a host directory shared through virtio-fs (or a guest directory, see
     * {@code disable_guest_empty_dir}). */
    SHARED_FS("shared-fs"),
    /** The emptyDir is a sparse disk image on the host, hot-plugged with virtio-blk and formatted in the guest. */
    BLOCK_PLAIN("block-plain");

    private final String tomlName;

    EmptyDirMode(String tomlName) {
        this.tomlName = tomlName;
    }

    /** @return the value as written in configuration.toml */
    public String tomlName() {
        return tomlName;
    }
}
