package dev.podvisor.storage.exec;

import dev.podvisor.storage.plan.DiskAttachment;
import dev.podvisor.storage.plan.HostAction;
import dev.podvisor.storage.plan.RootfsMount;
import dev.podvisor.storage.plan.StoragePlan;
import dev.podvisor.storage.plan.StorageScope;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Carries out a {@link StoragePlan} on the host (host actions in plan order, then disk attachments) and undoes it.
 * On a failure mid-way everything the container did is undone and a {@link PlanExecutionException} is thrown, so
 * nothing is left behind. One executor per sandbox (it shares the sandbox's {@link SandboxShares} and
 * {@link SandboxDisks}).
 *
 * <p>Pod-scoped shares and disks ({@link StorageScope#POD}) are held by the sandbox (holder = sandbox id), not by
 * the container: {@link #undo} leaves them, the executor keeps them in its pod ledger ({@link #podRecord}), and
 * {@link #undoPod} releases them when the sandbox ends, whatever order the containers came and went in.
 */
public final class PlanExecutor {

    private final MountOperations ops;
    private final SandboxShares shares;
    private final SandboxDisks disks;
    /** Pod-scoped steps by share or disk key, in first-use order. */
    private final Map<String, ExecutionRecord.Step> podLedger = new LinkedHashMap<>();

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
                        boolean pod = s.scope() == StorageScope.POD;
                        shares.acquire(pod ? plan.sandboxId() : cid, s.device(), s.shareName(), Path.of(s.source()),
                                s.readOnly(), s.directory());
                        done.add(ledger(new ExecutionRecord.Step.ShareAcquired(s.device(), s.shareName(), s.source(),
                                s.readOnly(), s.directory(), pod)));
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
                boolean pod = d.scope() == StorageScope.POD;
                AttachedDisk a = disks.acquire(pod ? plan.sandboxId() : cid, d);
                done.add(ledger(new ExecutionRecord.Step.DiskAttached(d.id(), d.hostPath(), d.readOnly(), a.id(),
                        a.pciPath(), pod)));
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
     * Undoes the container's part of {@code record} in reverse order; its pod-scoped steps stay with the sandbox.
     * Idempotent: undoing twice, or undoing what a crashed process did, is safe. Every step is attempted; the first
     * failure is thrown at the end with the others suppressed.
     */
    public void undo(ExecutionRecord record) {
        undoSteps(record, false);
    }

    /**
     * The pod ledger as a record of the sandbox ({@code containerId} = {@code sandboxId}, every step pod-scoped), to
     * persist and to hand to {@link #undoPod} (also from another process after a crash).
     */
    public synchronized ExecutionRecord podRecord(String sandboxId) {
        return new ExecutionRecord(sandboxId, sandboxId, List.copyOf(podLedger.values()));
    }

    /**
     * Releases the sandbox's hold on every pod-scoped step of {@code podRecord} (from {@link #podRecord}), in reverse
     * order of first use: the last holder unbinds a share or detaches a disk. Call it when the sandbox ends, after
     * its containers were undone. Idempotent; every step is attempted and the first failure thrown at the end.
     */
    public void undoPod(ExecutionRecord podRecord) {
        undoSteps(podRecord, true);
    }

    private void undoSteps(ExecutionRecord record, boolean pod) {
        RuntimeException first = null;
        List<ExecutionRecord.Step> steps = record.steps();
        for (int i = steps.size() - 1; i >= 0; i--) {
            ExecutionRecord.Step step = steps.get(i);
            if (ExecutionRecord.isPod(step) != pod) {
                continue;
            }
            String holder = pod ? record.sandboxId() : record.containerId();
            try {
                switch (step) {
                    case ExecutionRecord.Step.RootfsMounted m -> ops.unmount(Path.of(m.target()));
                    case ExecutionRecord.Step.ShareAcquired s -> shares.release(holder, s.device(), s.shareName());
                    case ExecutionRecord.Step.MountPointCreated p -> shares.removeMountPoint(p.device(), p.shareName());
                    case ExecutionRecord.Step.SparseFileCreated f -> { }
                    case ExecutionRecord.Step.DiskAttached d -> disks.release(holder, d.hostPath(), d.deviceId());
                }
                if (pod) {
                    forget(step);
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
            String holder = ExecutionRecord.isPod(step) ? record.sandboxId() : record.containerId();
            switch (step) {
                case ExecutionRecord.Step.ShareAcquired s ->
                        shares.restore(holder, s.device(), s.shareName(), Path.of(s.source()), s.readOnly());
                case ExecutionRecord.Step.DiskAttached d ->
                        disks.restore(holder, d.hostPath(), new AttachedDisk(d.deviceId(), d.pciPath()), d.readOnly());
                default -> { }
            }
            if (ExecutionRecord.isPod(step)) {
                ledger(step);
            }
        }
    }

    /** Notes a pod-scoped step in the ledger (the first one per share or disk wins); returns the step. */
    private synchronized ExecutionRecord.Step ledger(ExecutionRecord.Step step) {
        if (ExecutionRecord.isPod(step)) {
            podLedger.putIfAbsent(ledgerKey(step), step);
        }
        return step;
    }

    private synchronized void forget(ExecutionRecord.Step step) {
        podLedger.remove(ledgerKey(step));
    }

    private static String ledgerKey(ExecutionRecord.Step step) {
        return switch (step) {
            case ExecutionRecord.Step.ShareAcquired s -> "share\0" + s.device() + "\0" + s.shareName();
            case ExecutionRecord.Step.DiskAttached d -> "disk\0" + d.hostPath();
            default -> step.toString();
        };
    }
}
