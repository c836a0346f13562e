package dev.podvisor.storage.exec;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.plan.EmptyDirMode;
import dev.podvisor.storage.plan.HostAction;
import dev.podvisor.storage.plan.PlanInput;
import dev.podvisor.storage.plan.PlannerSettings;
import dev.podvisor.storage.plan.StoragePlan;
import dev.podvisor.storage.plan.StoragePlanner;
import dev.podvisor.storage.plan.StorageScope;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pod-scoped shares and disks belong to the sandbox: created with the first container that uses them, referenced
 * by later ones, released only by {@link PlanExecutor#undoPod}, whatever order containers come and go in.
 */
class PodScopedExecutionTest {

    private static final Path ROOT = Path.of("/run/kata-containers/shared/sandboxes");
    private static final Path RW = ROOT.resolve("sb1/rw");

    private final FakeHost host = new FakeHost(BUNDLE);
    private final SandboxShares shares = new SandboxShares(ROOT, "sb1", host);
    private final PlanExecutor executor = new PlanExecutor(host, shares, new SandboxDisks(host));

    /** A container with a disk emptyDir (shared-fs: a pod-scoped share) and a hostPath (container-scoped). */
    private static StoragePlan sharedFs(String cid) {
        return plan(cid, PlannerSettings.defaults());
    }

    /** A container with a block-plain disk emptyDir (a pod-scoped disk) and a hostPath. */
    private static StoragePlan blockPlain(String cid) {
        return plan(cid, new PlannerSettings(EmptyDirMode.BLOCK_PLAIN, false, Map.of(), List.of()));
    }

    private static StoragePlan plan(String cid, PlannerSettings settings) {
        PlanInput in = new PlanInput(settings, "sb1", cid, false, Map.of(),
                spec(bind("/scratch", SCRATCH), bind("/data", DATA)), List.of(FakeHost.overlay()), Path.of(BUNDLE));
        return StoragePlanner.plan(in, node().build());
    }

    private static Path share(StoragePlan plan, String source) {
        return RW.resolve(plan.hostActions().stream()
                .filter(a -> a instanceof HostAction.ShareBind s && s.source().equals(source))
                .map(a -> ((HostAction.ShareBind) a).shareName()).findFirst().orElseThrow());
    }

    @Test
    void anInitContainersVolumeOutlivesItAndIsNotBoundTwice() {
        Path scratch = share(sharedFs("init"), SCRATCH);
        Path data = share(sharedFs("init"), DATA);
        ExecutionRecord init = executor.execute(sharedFs("init"));
        executor.undo(init);
        assertEquals(1, host.mounts.get(scratch).size(), "the pod volume's bind stays after the init container");
        assertFalse(host.mounts.containsKey(data), "the hostPath bind went with its only container");

        ExecutionRecord app = executor.execute(sharedFs("app"));
        assertEquals(1, host.mounts.get(scratch).size(), "referenced, not bound again");
        executor.undo(app);
        ExecutionRecord restarted = executor.execute(sharedFs("app-1"));
        executor.undo(restarted);
        assertTrue(host.mounts.containsKey(scratch));

        ExecutionRecord pod = executor.podRecord("sb1");
        assertEquals(1, pod.steps().size(), pod.toString());
        executor.undoPod(pod);
        assertFalse(host.mounts.containsKey(scratch));
        assertTrue(executor.podRecord("sb1").steps().isEmpty());
        executor.undoPod(pod);
        assertFalse(host.mounts.containsKey(scratch), "idempotent");
    }

    @Test
    void overlappingContainersInAnyOrderKeepOnePodDisk() {
        ExecutionRecord a = executor.execute(blockPlain("a"));
        ExecutionRecord b = executor.execute(blockPlain("b"));
        assertEquals(1, host.disks.size(), "one attachment for the pod's emptyDir disk");
        assertTrue(a.steps().stream().anyMatch(s -> s instanceof ExecutionRecord.Step.DiskAttached d && d.pod()));
        executor.undo(a);
        ExecutionRecord c = executor.execute(blockPlain("c"));
        executor.undo(c);
        executor.undo(b);
        assertEquals(1, host.disks.size(), "no container detaches the pod's disk");
        assertEquals(1, host.log.stream().filter(l -> l.startsWith("attach ")).count(), host.log.toString());
        executor.undoPod(executor.podRecord("sb1"));
        assertTrue(host.disks.isEmpty());
    }

    @Test
    void aFailedFirstContainerLeavesThePodStepsToTheSandbox() {
        host.failWhen = op -> op.startsWith("bind " + DATA);
        Path scratch = share(sharedFs("c1"), SCRATCH);
        assertThrows(PlanExecutionException.class, () -> executor.execute(sharedFs("c1")));
        assertTrue(host.mounts.containsKey(scratch), "held by the sandbox, in its ledger");
        assertEquals(1, executor.podRecord("sb1").steps().size());
        executor.undoPod(executor.podRecord("sb1"));
        assertTrue(host.mounts.keySet().stream().noneMatch(p -> p.startsWith(RW.resolve("sandbox-"))), host.mounts.toString());
    }

    @Test
    void aCrashedSandboxsPodRecordIsUndoneByAnotherProcess() throws Exception {
        executor.execute(sharedFs("c1"));
        executor.execute(blockPlain("c2"));
        ExecutionRecord pod = ExecutionRecord.fromJson(JsonTrees.parse(JsonTrees.toBytes(executor.podRecord("sb1").toJson())));
        assertEquals(2, pod.steps().size());
        assertTrue(pod.steps().stream().allMatch(ExecutionRecord::isPod));

        PlanExecutor fresh = new PlanExecutor(host, new SandboxShares(ROOT, "sb1", host), new SandboxDisks(host));
        fresh.restore(pod);
        fresh.undoPod(pod);
        assertFalse(host.mounts.containsKey(share(sharedFs("c1"), SCRATCH)));
        assertTrue(host.disks.isEmpty());
    }

    @Test
    void thePlanSaysWhichHostActionsArePodScoped() {
        StoragePlan plan = sharedFs("c1");
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(dev.podvisor.storage.plan.GuestPaths.KATA_SHARED,
                share(plan, SCRATCH).getFileName().toString(), SCRATCH, false, true, StorageScope.POD)));
        assertEquals(StorageScope.POD, blockPlain("c1").disks().getFirst().scope());
    }
}
