package dev.podvisor.storage.plan;

/**
 * What the planner decided for the container rootfs.
 *
 * @param kind      {@link MountKind#VIRTIO_BLK} (the device is the rootfs) or {@link MountKind#VIRTIO_FS}
 * @param hostMount whether containerd's rootfs mounts are performed on the host (at {@code <bundle>/rootfs})
 * @param guestPath the rootfs path inside the guest (the OCI {@code root.path} the agent gets)
 * @param device    the disk id for virtio-blk, {@code kataShared} for virtio-fs
 * @param hostPath  the host path shared (virtio-fs) or attached (virtio-blk)
 * @param rule      stable id: {@code rootfs-block-device}, {@code rootfs-loop-file}, {@code rootfs-device-subdir},
 *                  {@code rootfs-host-mount}, {@code rootfs-bundle}
 * @param reason    a human explanation built from the host facts
 */
public record RootfsDecision(
        MountKind kind, boolean hostMount, String guestPath, String device, String hostPath, String rule, String reason) {
}
