package dev.podvisor.storage.plan;

/**
 * A disk to attach to the VM.
 *
 * @param id       plan-local id ({@code disk0}, {@code disk1}, ...), referenced by {@link GuestStorage#diskId()}
 * @param hostPath block device node, image file, or vhost-user socket
 * @param readOnly attach read-only
 * @param type     transport
 */
public record DiskAttachment(String id, String hostPath, boolean readOnly, DiskType type) {

    /** The transport of a disk. */
    public enum DiskType {
        /** Cloud Hypervisor {@code vm.add-disk} with {@code path}. */
        VIRTIO_BLK,
        /** Cloud Hypervisor {@code vm.add-disk} with {@code vhost_user: true, vhost_socket}. */
        VHOST_USER_BLK
    }
}
