package dev.podvisor.storage.exec;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.podvisor.storage.host.RecordedHostFacts;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.plan.GuestPaths;
import dev.podvisor.storage.plan.GuestStorage;
import dev.podvisor.storage.plan.PlanInput;
import dev.podvisor.storage.plan.PlannerSettings;
import dev.podvisor.storage.plan.StoragePlan;
import dev.podvisor.storage.plan.StoragePlanner;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlanExecutorTest {

    private static final Path ROOT = Path.of("/run/kata-containers/shared/sandboxes");
    private static final Path RW = ROOT.resolve("sb1/rw");

    private final FakeHost host = new FakeHost(BUNDLE);
    private final SandboxShares shares = new SandboxShares(ROOT, "sb1", host);
    private final PlanExecutor executor = new PlanExecutor(host, shares, new SandboxDisks(host));

    private static RecordedHostFacts facts() {
        return node().blockDevice("/dev/sdc", 8, 32, true).build();
    }

    private static StoragePlan plan(String cid) {
        PlanInput in = new PlanInput(PlannerSettings.defaults(), "sb1", cid, false, Map.of(),
                spec(bind("/etc/hosts", HOSTS), bind("/data", DATA, "ro"), bind("/blk", "/dev/sdc"), bind("/cache", CACHE)),
                List.of(FakeHost.overlay()), Path.of(BUNDLE));
        return StoragePlanner.plan(in, facts());
    }

    @Test
    void executeThenUndoLeavesNothingAndUndoIsIdempotent() {
        shares.prepare(GuestPaths.KATA_SHARED);
        StoragePlan plan = plan("c1");
        ExecutionRecord record = executor.execute(plan);

        assertEquals("overlay overlay", host.mounts.get(Path.of(BUNDLE, "rootfs")).peek());
        assertEquals("bind " + BUNDLE + "/rootfs rw", host.mounts.get(RW.resolve("c1/rootfs")).peek());
        Path hostsShare = RW.resolve(plan.hostActions().stream().filter(a -> a.toString().contains("hosts")).findFirst()
                .map(a -> ((dev.podvisor.storage.plan.HostAction.ShareBind) a).shareName()).orElseThrow());
        assertTrue(host.files.contains(hostsShare), "a file source gets a file mount point");
        assertEquals("bind " + HOSTS + " rw", host.mounts.get(hostsShare).peek());
        assertTrue(host.log.stream().anyMatch(l -> l.startsWith("remount-ro " + ROOT.resolve("sb1/ro/sandbox-"))), host.log.toString());
        assertEquals(1, host.disks.size());
        assertTrue(host.log.contains("attach /dev/sdc ro"), host.log.toString());

        List<GuestStorage> resolved = record.resolve(plan.storages());
        GuestStorage blk = resolved.stream().filter(s -> s.driver().equals("blk")).findFirst().orElseThrow();
        assertEquals("03", blk.source());
        assertNull(blk.diskId());

        executor.undo(record);
        // only the sandbox's own share mounts stay: rw bound onto itself (shared) and its read-only slave ro
        assertTrue(host.mounts.keySet().stream().allMatch(p -> p.equals(ROOT.resolve("sb1/ro")) || p.equals(RW)),
                host.mounts.toString());
        assertTrue(host.disks.isEmpty());
        assertEquals(java.util.Set.of(RW), host.pathsUnder(RW.toString()));
        int logSize = host.log.size();
        executor.undo(record);
        assertTrue(host.mounts.keySet().stream().allMatch(p -> p.equals(ROOT.resolve("sb1/ro")) || p.equals(RW)));
        assertTrue(host.log.size() > logSize, "second undo ran");

        shares.teardown(GuestPaths.KATA_SHARED);
        assertTrue(host.mounts.isEmpty(), host.mounts.toString());
        assertTrue(host.pathsUnder(ROOT.resolve("sb1").toString()).isEmpty());
    }

    @Test
    void sharesAndDisksAreRefCountedAcrossContainers() {
        ExecutionRecord r1 = executor.execute(plan("c1"));
        ExecutionRecord r2 = executor.execute(plan("c2"));
        String name = ((dev.podvisor.storage.plan.HostAction.ShareBind) plan("c1").hostActions().get(2)).shareName();
        assertEquals(1, host.mounts.get(RW.resolve(name)).size(), "one host bind per source per sandbox");
        assertEquals(2, shares.holders(GuestPaths.KATA_SHARED, name));
        assertEquals(1, host.disks.size(), "one attachment per host device");
        executor.undo(r1);
        executor.undo(r1);
        assertEquals(1, shares.holders(GuestPaths.KATA_SHARED, name), "undo of c1 twice counts once");
        assertTrue(host.mounts.containsKey(RW.resolve(name)));
        assertEquals(1, host.disks.size());
        executor.undo(r2);
        assertFalse(host.mounts.containsKey(RW.resolve(name)));
        assertTrue(host.disks.isEmpty());
    }

    @Test
    void failureMidWayUndoesEverythingAndRethrows() {
        host.failWhen = op -> op.startsWith("attach");
        PlanExecutionException e = assertThrows(PlanExecutionException.class, () -> executor.execute(plan("c1")));
        assertTrue(e.getMessage().contains("container c1"), e.getMessage());
        assertTrue(e.getCause().getMessage().contains("injected failure"));
        assertTrue(host.mounts.isEmpty(), host.mounts.toString());
        assertTrue(host.disks.isEmpty());
        assertTrue(host.pathsUnder(RW.toString()).stream().allMatch(p -> p.equals(RW)), host.pathsUnder(RW.toString()).toString());

        host.failWhen = op -> op.startsWith("bind " + DATA);
        assertThrows(PlanExecutionException.class, () -> executor.execute(plan("c1")));
        assertTrue(host.mounts.isEmpty(), host.mounts.toString());
    }

    @Test
    void recordSurvivesJsonAndACrashedProcessIsCleanedUp() throws Exception {
        ExecutionRecord record = executor.execute(plan("c1"));
        String json = JsonTrees.toString(record.toJson(), false);
        assertTrue(json.contains("\"step\":\"share-acquired\""), json);
        ExecutionRecord back = ExecutionRecord.fromJson(JsonTrees.parse(json));
        assertEquals(record, back);

        // A new process (shim delete after a crash) knows nothing but the record.
        SandboxShares freshShares = new SandboxShares(ROOT, "sb1", host);
        PlanExecutor fresh = new PlanExecutor(host, freshShares, new SandboxDisks(host));
        fresh.undo(back);
        assertTrue(host.mounts.isEmpty(), host.mounts.toString());
        assertTrue(host.disks.isEmpty());
        fresh.undo(back);
        assertTrue(host.mounts.isEmpty());
    }

    @Test
    void restoredHoldersKeepSharedBindsAlive() {
        ExecutionRecord r1 = executor.execute(plan("c1"));
        ExecutionRecord r2 = executor.execute(plan("c2"));
        PlanExecutor fresh = new PlanExecutor(host, new SandboxShares(ROOT, "sb1", host), new SandboxDisks(host));
        fresh.restore(r1);
        fresh.restore(r2);
        fresh.undo(r1);
        assertEquals(1, host.disks.size(), "c2 still uses the disk");
        String name = ((dev.podvisor.storage.plan.HostAction.ShareBind) plan("c1").hostActions().get(2)).shareName();
        assertTrue(host.mounts.containsKey(RW.resolve(name)), "c2 still uses the share");
        fresh.undo(r2);
        assertTrue(host.mounts.isEmpty(), host.mounts.toString());
    }

    @Test
    void shareNamesCannotEscapeTheShare() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> shares.acquire("c1", GuestPaths.KATA_SHARED, "../../etc", Path.of("/srv/data"), false, true));
        assertTrue(e.getMessage().contains("'../../etc'"), e.getMessage());
        assertTrue(host.mounts.isEmpty());
        shares.acquire("c1", GuestPaths.KATA_SHARED, "sandbox-1-data", Path.of("/srv/data"), false, true);
        assertThrows(IllegalStateException.class,
                () -> shares.acquire("c2", GuestPaths.KATA_SHARED, "sandbox-1-data", Path.of("/srv/other"), false, true));
    }
}
