package dev.podvisor.storage.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.TreeFields;
import dev.podvisor.storage.plan.GuestStorage;
import java.util.List;

/**
 * What executing a plan did on the host, in order, so it can be undone, also by another process after a crash
 * ({@code containerd-shim-kata-v2 delete}). Persisted as JSON with {@link #toJson()} / {@link #fromJson(JsonNode)}
 * (shape in {@link ExecutionRecordJson}): each step carries {@code "step"} with its type name first.
 *
 * @param sandboxId   the sandbox id
 * @param containerId the container id (the ref-count holder in the sandbox's shares and disks)
 * @param steps       the steps done, in order
 */
public record ExecutionRecord(String sandboxId, String containerId, List<Step> steps) {

    public ExecutionRecord {
        steps = List.copyOf(steps);
    }

    /**
     * This record as a JSON tree: {@code {"sandboxId", "containerId", "steps": [{"step": "<name>", ...fields}]}},
     * step names rootfs-mounted, share-acquired, mount-point-created, sparse-file-created, disk-attached.
     */
    public ObjectNode toJson() {
        return ExecutionRecordJson.write(this);
    }

    /**
     * The record {@link #toJson()} wrote (also an earlier build's, whose databind wrote the same shape).
     *
     * @param tree the record's JSON tree
     * @return the record
     * @throws TreeFields.ShapeException naming the field and value (e.g. {@code steps[2].step: unknown step name
     *                                   ..., got "x"}, {@code steps[0].target: missing}) for a tree of another shape
     */
    public static ExecutionRecord fromJson(JsonNode tree) throws TreeFields.ShapeException {
        return ExecutionRecordJson.read(tree);
    }

    /** One thing done on the host. */
    public sealed interface Step {

        /**
         * One containerd rootfs mount was mounted on {@code target}; undo unmounts it once.
         *
         * @param target host path
         */
        record RootfsMounted(String target) implements Step {
        }

        /**
         * The container (or, when {@code pod}, the sandbox) holds a share; undo releases it (the last holder unmounts).
         *
         * @param device    virtio-fs device
         * @param shareName share name
         * @param source    host source
         * @param readOnly  read-only bind
         * @param directory source is a directory
         * @param pod       held by the sandbox (a pod volume): released by {@link PlanExecutor#undoPod}, never with
         *                  the container
         */
        record ShareAcquired(String device, String shareName, String source, boolean readOnly, boolean directory,
                             boolean pod) implements Step {
        }

        /**
         * A guest mount point directory was created in a share; undo removes it and its empty parents in the share.
         *
         * @param device    virtio-fs device
         * @param shareName path in the device's rw tree
         */
        record MountPointCreated(String device, String shareName) implements Step {
        }

        /**
         * A sparse image was created (or found); it is left in place by undo: it lives in the emptyDir, which kubelet
         * removes with the pod, and other containers of the pod may use it.
         *
         * @param path    host path
         * @param created whether this execution created it
         */
        record SparseFileCreated(String path, boolean created) implements Step {
        }

        /**
         * A disk is attached for the container (or, when {@code pod}, the sandbox); undo releases it (the last holder
         * detaches it).
         *
         * @param planDiskId the plan-local disk id
         * @param hostPath   backing path
         * @param readOnly   attached read-only
         * @param deviceId   hypervisor device id
         * @param pciPath    guest PCI path
         * @param pod        held by the sandbox (a block-plain emptyDir): released by {@link PlanExecutor#undoPod}
         */
        record DiskAttached(String planDiskId, String hostPath, boolean readOnly, String deviceId, String pciPath,
                            boolean pod) implements Step {
        }
    }

    /**
     * The guest PCI path of a plan-local disk.
     *
     * @throws IllegalArgumentException naming the id when this execution attached no such disk
     */
    public String pciPathOf(String planDiskId) {
        for (Step s : steps) {
            if (s instanceof Step.DiskAttached d && d.planDiskId().equals(planDiskId)) {
                return d.pciPath();
            }
        }
        throw new IllegalArgumentException("disk id '" + planDiskId + "': not attached by this execution");
    }

    /** The steps held by the sandbox (pod-scoped shares and disks). */
    public List<Step> podSteps() {
        return steps.stream().filter(ExecutionRecord::isPod).toList();
    }

    /** Whether {@code step} is held by the sandbox rather than the container. */
    public static boolean isPod(Step step) {
        return switch (step) {
            case Step.ShareAcquired s -> s.pod();
            case Step.DiskAttached d -> d.pod();
            default -> false;
        };
    }

    /** {@code storages} with every disk reference replaced by its PCI path ({@link GuestStorage#resolve}). */
    public List<GuestStorage> resolve(List<GuestStorage> storages) {
        return storages.stream().map(s -> s.resolve(this::pciPathOf)).toList();
    }
}
