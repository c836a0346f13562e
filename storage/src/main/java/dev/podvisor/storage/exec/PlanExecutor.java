package dev.podvisor.storage.exec;

import dev.podvisor.storage.plan.DiskAttachment;
import dev.podvisor.storage.plan.HostAction;
import dev.podvisor.storage.plan.RootfsMount;
import dev.podvisor.storage.plan.StoragePlan;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Carries out a {@link StoragePlan} on the host (host actions in plan order, then disk attachments) and undoes it.
 * On a failure mid-way everything done is undone and a {@link PlanExecutionException} is thrown, so nothing is left
 * behind. One executor per sandbox (it shares the sandbox's {@link SandboxShares} and {@link SandboxDisks}).
 */
public final class PlanExecutor {

    private final MountOperations ops;
    private final SandboxShares shares;
    private final SandboxDisks disks;

    /**
     * @param ops    host mount operations
     * @param shares the sandbox's shares
     * @param disks  the sandbox's disks
     */
    public PlanExecutor(MountOperations ops, SandboxShares shares, SandboxDisks disks) {
        this.ops = Objects.requireNonNull(ops);
        this.shares = Objects.requireNonNull(shares);
        this.disks = Objects.requireNonNull(disks);
    }

    /**
     * Executes {@code plan}.
     *
     * @return what was done; persist it to undo after a crash; {@link ExecutionRecord#resolve} gives the storages with
     *         PCI paths
     * @throws PlanExecutionException after undoing what was done, when a step fails
     */
    public ExecutionRecord execute(StoragePlan plan) {
        String cid = plan.containerId();
        List<ExecutionRecord.Step> done = new ArrayList<>();
        String current = "";
        try {
            for (HostAction action : plan.hostActions()) {
                current = action.toString();
                switch (action) {
                    case HostAction.RootfsHostMount m -> {
                        Path target = Path.of(m.target());
                        ops.mkdirs(target);
                        for (RootfsMount rm : m.mounts()) {
                            ops.mount(rm.type(), rm.source(), target, rm.options());
                            done.add(new ExecutionRecord.Step.RootfsMounted(m.target()));
                        }
                    }
                    case HostAction.ShareBind s -> {
                        shares.acquire(cid, s.device(), s.shareName(), Path.of(s.source()), s.readOnly(), s.directory());
                        done.add(new ExecutionRecord.Step.ShareAcquired(s.device(), s.shareName(), s.source(), s.readOnly(), s.directory()));
                    }
                    case HostAction.ShareMountPoint p -> {
                        shares.createMountPoint(p.device(), p.shareName());
                        done.add(new ExecutionRecord.Step.MountPointCreated(p.device(), p.shareName()));
                    }
                    case HostAction.CreateSparseFile f -> {
                        boolean created = ops.createSparseFile(Path.of(f.path()), f.sizeBytes());
                        done.add(new ExecutionRecord.Step.SparseFileCreated(f.path(), created));
                    }
                }
            }
            for (DiskAttachment d : plan.disks()) {
                current = d.toString();
                AttachedDisk a = disks.acquire(cid, d);
                done.add(new ExecutionRecord.Step.DiskAttached(d.id(), d.hostPath(), d.readOnly(), a.id(), a.pciPath()));
            }
        } catch (RuntimeException e) {
            PlanExecutionException failure = new PlanExecutionException(
                    "storage plan of container " + cid + ": " + current + ": " + e.getMessage(), e);
            try {
                undo(new ExecutionRecord(plan.sandboxId(), cid, done));
            } catch (RuntimeException undoFailure) {
                failure.addSuppressed(undoFailure);
            }
            throw failure;
        }
        return new ExecutionRecord(plan.sandboxId(), cid, done);
    }

    /**
     * Undoes {@code record} in reverse order. Idempotent: undoing twice, or undoing what a crashed process did, is
     * safe. Every step is attempted; the first failure is thrown at the end with the others suppressed.
     */
    public void undo(ExecutionRecord record) {
        RuntimeException first = null;
        List<ExecutionRecord.Step> steps = record.steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            try {
                switch (steps.get(i)) {
                    case ExecutionRecord.Step.RootfsMounted m -> ops.unmount(Path.of(m.target()));
                    case ExecutionRecord.Step.ShareAcquired s -> shares.release(record.containerId(), s.device(), s.shareName());
                    case ExecutionRecord.Step.MountPointCreated p -> shares.removeMountPoint(p.device(), p.shareName());
                    case ExecutionRecord.Step.SparseFileCreated f -> { }
                    case ExecutionRecord.Step.DiskAttached d -> disks.release(record.containerId(), d.hostPath(), d.deviceId());
                }
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /**
     * Re-registers the holders of {@code record} (after a shim restart, from persisted records) so ref-counts across
     * containers are right again. Touches neither host nor VM.
     */
    public void restore(ExecutionRecord record) {
        for (ExecutionRecord.Step step : record.steps()) {
            switch (step) {
                case ExecutionRecord.Step.ShareAcquired s ->
                        shares.restore(record.containerId(), s.device(), s.shareName(), Path.of(s.source()), s.readOnly());
                case ExecutionRecord.Step.DiskAttached d ->
                        disks.restore(record.containerId(), d.hostPath(), new AttachedDisk(d.deviceId(), d.pciPath()), d.readOnly());
                default -> { }
            }
        }
    }
}
