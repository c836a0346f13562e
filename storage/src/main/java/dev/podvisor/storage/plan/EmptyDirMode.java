package dev.podvisor.storage.plan;

/**
 * How a disk-backed emptyDir reaches the guest (configuration {@code emptydir_mode}, Kata 3.28+/4.0).
 * Neither mode ever puts a disk emptyDir in guest RAM.
 */
public enum EmptyDirMode {
    /** {@code shared-fs} (default): the host directory is shared by virtio-fs, so kubelet's accounting and eviction keep working. */
    SHARED_FS("shared-fs"),
    /** {@code block-plain}: a sparse {@code disk.img} inside the emptyDir, attached as virtio-blk and formatted (ext4) in the guest. */
    BLOCK_PLAIN("block-plain");

    private final String configName;

    EmptyDirMode(String configName) {
        this.configName = configName;
    }

    /** The value as configuration.toml writes it ({@code shared-fs}, {@code block-plain}). */
    public String configName() {
        return configName;
    }
}
