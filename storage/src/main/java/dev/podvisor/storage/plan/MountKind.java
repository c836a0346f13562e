package dev.podvisor.storage.plan;

import com.fasterxml.jackson.annotation.JsonValue;

/** How a mount (or the rootfs) reaches the guest. {@link #wireName()} is the value in plan JSON. */
public enum MountKind {
    /** Shared from the host through a virtio-fs device ({@code kataShared} or an extra device). */
    VIRTIO_FS("virtio-fs"),
    /** A virtio-blk disk (host block device or image file), mounted in the guest. */
    VIRTIO_BLK("virtio-blk"),
    /** A vhost-user-blk disk (an SPDK socket), mounted in the guest. */
    VHOST_USER_BLK("vhost-user-blk"),
    /** A tmpfs created in the guest (agent {@code ephemeral} driver). */
    GUEST_TMPFS("guest-tmpfs"),
    /** A hugetlbfs created in the guest (agent {@code ephemeral} driver, fstype hugetlbfs). */
    GUEST_HUGETLBFS("guest-hugetlbfs"),
    /** A plain directory in the guest (agent {@code local} driver). No rule produces it today. */
    GUEST_LOCAL("guest-local"),
    /** Handed to the agent unchanged (proc, sysfs, tmpfs, devpts...). */
    PASSTHROUGH("passthrough");

    private final String wireName;

    MountKind(String wireName) {
        this.wireName = wireName;
    }

    /** The JSON name: {@code virtio-fs}, {@code virtio-blk}, ... */
    @JsonValue
    public String wireName() {
        return wireName;
    }
}
