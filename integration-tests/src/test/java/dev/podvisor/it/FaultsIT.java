package dev.podvisor.it;

import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Installed;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults (issue 8): an operator kills a Podvisor process (VMM, shim, virtiofsd) at any moment, the guest agent
 * hangs, or containerd restarts. In every case the task ends with an exit event where it should, {@code ctr task
 * delete} and {@code ctr container rm} succeed (each command bounded by containerd's 5 s shim deadline plus
 * ctr's own start-up), and nothing of the sandbox is left: no process, mount, loop device, socket or state
 * directory. Each test has its own private containerd (a fault may leave containerd's view odd). Needs root,
 * containerd and runc.
 */
class FaultsIT extends ContainerdPerTest {

    /** Bound of one ctr command that containerd answers after at most one shim delete (5 s) + ctr start-up. */
    static final Duration CTR_DEADLINE = Duration.ofSeconds(15);
    static final String LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

    private void runDetached(String id) {
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME, IMAGE, id, "sh", "-c", LOOP)
                .requireSuccess();
    }

    /** {@code ctr task delete} then {@code ctr container rm}, each within {@link #CTR_DEADLINE}. */
    private void deleteTaskAndContainer(String id) {
        CommandResult deleted = containerd.ctr(CTR_DEADLINE, "task", "delete", "-f", id);
        assertTrue(deleted.ok() || deleted.stderr().contains("not found"), deleted.toString());
        CommandResult removed = containerd.ctr(CTR_DEADLINE, "container", "rm", id);
        assertTrue(removed.ok(), removed.toString());
    }

    /** The task reaches STOPPED (an exit event came), then task and container are deleted. */
    private void awaitExitThenDelete(String id) {
        assertEquals("STOPPED", FaultChecks.awaitStatus(containerd, id, "STOPPED"), "the exit is reported");
        deleteTaskAndContainer(id);
    }

    private long vmmPid(String id) {
        return FaultChecks.pidOf("--api-socket " + stateDir.resolve(id).resolve("clh-api.sock"))
                .orElseThrow(() -> new AssertionError("no VMM for " + id));
    }

    @Test
    void aDeadVmmEndsTheTaskAndTheTaskStaysDeletable() {
        String id = id("vmmkill");
        runDetached(id);
        FaultChecks.kill(vmmPid(id), "KILL");
        awaitExitThenDelete(id);
    }

    @Test
    void aKilledShimIsCleanedUpByDelete() {
        String id = id("shimkill");
        runDetached(id);
        long shim = FaultChecks.pidOf("dev.podvisor.shim.ShimMain", "-id " + id, containerd.address().toString())
                .orElseThrow();
        FaultChecks.kill(shim, "KILL");
        // containerd notices, runs `shim delete` and removes the task itself (exit 137 from delete's answer)
        assertEquals("", FaultChecks.awaitStatus(containerd, id, ""), "containerd ends the task");
        assertTrue(FaultChecks.awaitGone(stateDir.resolve(id), Duration.ofSeconds(10)), "delete removed the state");
        deleteTaskAndContainer(id);
    }

    @Test
    void aShimKilledDuringBootOrphansNothing() throws IOException {
        // a VMM that takes long to start: the shim is killed while virtiofsd runs and the VMM has just started
        Path wrapper = dir.resolve("slow-ch");
        Files.writeString(wrapper, "#!/bin/sh\nsleep 8\nexec " + Installed.get().prefix().resolve("testbed/bin/cloud-hypervisor")
                + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        containerd.close();
        startContainerd("path = " + TestbedConfig.quote(wrapper));
        String id = id("bootkill");
        CompletableFuture<CommandResult> run = CompletableFuture.supplyAsync(() -> containerd.ctr(Duration.ofSeconds(60),
                "run", "--rm", "--runtime", RUNTIME, IMAGE, id, "echo", "never"));
        long vmm = FaultChecks.awaitPid(Duration.ofSeconds(60), "--api-socket " + stateDir.resolve(id));
        assertTrue(vmm > 0, "the VMM started");
        long shim = FaultChecks.pidOf("dev.podvisor.shim.ShimMain", "-id " + id, containerd.address().toString())
                .orElseThrow();
        FaultChecks.kill(shim, "KILL");
        CommandResult result = run.join();
        assertFalse(result.ok(), result.toString());
        containerd.ctr(CTR_DEADLINE, "container", "rm", id);
    }

    @Test
    void aKilledVirtiofsdLeavesADeletableTask() {
        String id = id("vfskill");
        runDetached(id);
        long virtiofsd = FaultChecks.pidOf("--socket-path " + stateDir.resolve(id).resolve("virtiofsd-"))
                .orElseThrow(() -> new AssertionError("no virtiofsd for " + id));
        FaultChecks.kill(virtiofsd, "KILL");
        containerd.ctr(CTR_DEADLINE, "task", "kill", "-s", "SIGKILL", id);
        awaitExitThenDelete(id);
    }

    @Test
    void aHungAgentStillLetsTheTaskBeKilledAndDeleted() {
        String id = id("hang");
        runDetached(id);
        long guest = FaultChecks.pidOf("dev.podvisor.testbed.guest.GuestMain", "--vm-dir " + stateDir.resolve(id))
                .orElseThrow(() -> new AssertionError("no guest for " + id));
        FaultChecks.kill(guest, "STOP");
        try {
            containerd.ctr(Duration.ofSeconds(60), "task", "kill", "-s", "SIGKILL", id);
            awaitExitThenDelete(id);
        } finally {
            FaultChecks.kill(guest, "CONT");
        }
    }

    @Test
    void aContainerdRestartKeepsTheTaskAndItsCleanup() {
        String id = id("restart");
        runDetached(id);
        FaultChecks.restart(containerd);
        assertEquals("RUNNING", FaultChecks.awaitStatus(containerd, id, "RUNNING"), "the task survives");
        containerd.ctr(CTR_DEADLINE, "task", "kill", "-s", "SIGTERM", id).requireSuccess();
        awaitExitThenDelete(id);
    }

    @Test
    void theShareTreeAndTheStateAreOwnerOnly() throws IOException {
        String id = id("mode");
        runDetached(id);
        for (Path path : List.of(sharedRoot.resolve(id), sharedRoot.resolve(id).resolve("rw"),
                sharedRoot.resolve(id).resolve("ro"), stateDir.resolve(id))) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)), path.toString());
            assertEquals(0, (Integer) Files.getAttribute(path, "unix:uid"), path + " is owned by root");
        }
        containerd.ctr(CTR_DEADLINE, "task", "kill", "-s", "SIGTERM", id).requireSuccess();
        awaitExitThenDelete(id);
    }
}
