package dev.podvisor.storage.plan;

import dev.podvisor.storage.spec.OciMount;
import dev.podvisor.storage.spec.OciSpec;
import java.util.List;

/**
 * The complete storage plan of one container: a decision for the rootfs and for every OCI mount, and everything
 * needed to carry them out. Produced by {@link StoragePlanner#plan}; carried out by
 * {@code dev.podvisor.storage.exec.PlanExecutor}.
 *
 * @param sandboxId        the sandbox id
 * @param containerId      the container id
 * @param rootfs           the rootfs decision
 * @param mounts           one decision per OCI mount, in spec order
 * @param virtioFsDevices  extra virtio-fs devices of the sandbox (configuration plus enabled annotation); the
 *                         default {@code kataShared} device is implied
 * @param disks            disks to attach for this container
 * @param hostActions      host changes, in execution order
 * @param storages         agent Storage entries for CreateContainer
 * @param sandboxStorages  agent Storage entries for CreateSandbox (virtio-fs devices, shm); the sandbox sends the ones
 *                         of the sandbox container's plan
 * @param guestMounts      the OCI mounts as the guest sees them, in spec order
 * @param guestRootPath    the OCI {@code root.path} as the guest sees it
 */
public record StoragePlan(
        String sandboxId,
        String containerId,
        RootfsDecision rootfs,
        List<MountDecision> mounts,
        List<VirtioFsDevice> virtioFsDevices,
        List<DiskAttachment> disks,
        List<HostAction> hostActions,
        List<GuestStorage> storages,
        List<GuestStorage> sandboxStorages,
        List<OciMount> guestMounts,
        String guestRootPath) {

    public StoragePlan {
        mounts = List.copyOf(mounts);
        virtioFsDevices = List.copyOf(virtioFsDevices);
        disks = List.copyOf(disks);
        hostActions = List.copyOf(hostActions);
        storages = List.copyOf(storages);
        sandboxStorages = List.copyOf(sandboxStorages);
        guestMounts = List.copyOf(guestMounts);
    }

    /**
     * The special volumes this plan sends to extra devices, as the pod's other containers must agree with them
     * (see {@link PlanInput#podSpecialVolumes}).
     *
     * @return container path to claim, for every mount rule {@code special-volume} decided
     */
    public java.util.Map<String, SpecialVolumeClaim> specialVolumeClaims() {
        java.util.Map<String, SpecialVolumeClaim> claims = new java.util.LinkedHashMap<>();
        for (MountDecision d : mounts) {
            if (d.rule().equals("special-volume")) {
                claims.put(d.destination(), new SpecialVolumeClaim(containerId, d.device()));
            }
        }
        return claims;
    }

    /** {@code hostSpec} as the guest sees it: mounts replaced by {@link #guestMounts}, root.path by {@link #guestRootPath}. */
    public OciSpec guestSpec(OciSpec hostSpec) {
        return hostSpec.withMounts(guestMounts).withRootPath(guestRootPath);
    }
}
