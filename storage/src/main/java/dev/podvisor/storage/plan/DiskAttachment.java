package dev.podvisor.storage.plan;

/**
 * A disk to attach to the VM.
 *
 * @param id       plan-local id ({@code disk0}, {@code disk1}, ...), referenced by {@link GuestStorage#diskId()}
 * @param hostPath block device node, image file, or vhost-user socket
 * @param readOnly attach read-only
 * @param type     transport
 * @param scope    {@link StorageScope#POD} for a block-plain emptyDir: held by the sandbox, detached with it
 */
public record DiskAttachment(String id, String hostPath, boolean readOnly, DiskType type, StorageScope scope) {

    /** A container-scoped disk. */
    public DiskAttachment(String id, String hostPath, boolean readOnly, DiskType type) {
        this(id, hostPath, readOnly, type, StorageScope.CONTAINER);
    }

    /** The transport of a disk. */
    public enum DiskType {
        /** Cloud Hypervisor {@code vm.add-disk} with {@code path}. */
        VIRTIO_BLK,
        /** Cloud Hypervisor {@code vm.add-disk} with {@code vhost_user: true, vhost_socket}. */
        VHOST_USER_BLK
    }
}
