package dev.podvisor.storage.plan;

/**
 * What the planner decided for one OCI mount, and why.
 *
 * @param destination the container path
 * @param source      the host source as the spec gives it
 * @param kind        how it reaches the guest
 * @param device      the virtio-fs device ({@code kataShared} or an extra device's name) or the plan-local disk id;
 *                    empty for guest tmpfs/hugetlbfs and passthrough
 * @param sizeBytes   size of the guest tmpfs or hugetlbfs in bytes; 0 otherwise
 * @param readOnly    whether the container sees it read-only
 * @param rule        the stable id of the rule that decided ({@code dev-shm}, {@code emptydir-tmpfs}, ...)
 * @param reason      a human explanation built from the host facts
 * @param guestPath   the source of the container's mount inside the guest
 * @param scope       whether what was set up for it lives with the pod or with the container ({@link StorageScope})
 */
public record MountDecision(
        String destination,
        String source,
        MountKind kind,
        String device,
        long sizeBytes,
        boolean readOnly,
        String rule,
        String reason,
        String guestPath,
        StorageScope scope) {

    /** A container-scoped decision. */
    public MountDecision(String destination, String source, MountKind kind, String device, long sizeBytes,
                         boolean readOnly, String rule, String reason, String guestPath) {
        this(destination, source, kind, device, sizeBytes, readOnly, rule, reason, guestPath, StorageScope.CONTAINER);
    }
}
