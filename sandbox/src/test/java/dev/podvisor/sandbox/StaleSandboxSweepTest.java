package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.ChildProcesses;
import dev.podvisor.hypervisor.ChildRegistry;
import dev.podvisor.sandbox.log.LogfmtLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a later shim sweeps (issue 8, case 3): a sandbox whose shim is provably gone, and a dead shim's socket under
 * {@code /run/containerd/s} (a uniquely named one this test makes and removes). Needs root for the socket directory.
 */
class StaleSandboxSweepTest {

    private final LogfmtLog log = new LogfmtLog(new ByteArrayOutputStream(), LogfmtLog.Level.DEBUG, Map.of());

    /** A state dir as boot leaves it, with a shim record whose process is gone and a live child. */
    private static Process sandboxWithDeadShim(Path stateDir, String id) throws IOException {
        Path vmDir = stateDir.resolve(id);
        Files.createDirectories(vmDir);
        long self = ProcessHandle.current().pid();
        long ticks = ChildRegistry.startTicks(self).orElseThrow();
        // same pid as this JVM, another start time: the shim that was (its pid since reused)
        Files.writeString(vmDir.resolve(ChildRegistry.FILE), ChildRegistry.SHIM + " " + self + " " + (ticks + 1) + "\n");
        new SandboxState(id, vmDir.toString(), stateDir.resolveSibling("shared").resolve(id).toString(), 0, List.of(),
                Map.of()).save();
        return ChildProcesses.spawn(List.of("/bin/sleep", "60"), vmDir.resolve("sleep.log"));
    }

    @Test
    void aSandboxWhoseShimIsGoneIsTornDownAndALiveOneIsLeft(@TempDir Path root) throws Exception {
        Path stateDir = root.resolve("state");
        Process orphan = sandboxWithDeadShim(stateDir, "gone");
        Path alive = stateDir.resolve("alive");
        Files.createDirectories(alive);
        ChildRegistry.in(alive).record(ChildRegistry.SHIM, ProcessHandle.current().pid());
        new SandboxState("alive", alive.toString(), root.resolve("shared/alive").toString(), 0, List.of(), Map.of()).save();
        try {
            assertTrue(StaleSandboxSweep.isStale(stateDir.resolve("gone")));
            assertFalse(StaleSandboxSweep.isStale(alive));
            assertEquals(List.of("gone"), StaleSandboxSweep.sweep(stateDir, log));
            assertTrue(orphan.waitFor(5, TimeUnit.SECONDS), "the orphaned child is stopped");
            assertFalse(Files.exists(stateDir.resolve("gone")), "its state is removed");
            assertTrue(Files.exists(alive.resolve(SandboxState.FILE)), "a sandbox whose shim runs is left alone");
        } finally {
            orphan.destroyForcibly();
        }
    }

    @Test
    void aDeadShimsSocketIsRemovedOnlyWhenProvablyOurs(@TempDir Path bundle) throws Exception {
        Path socket = StaleShimSocket.SOCKET_DIR.resolve("podvisor-test-" + UUID.randomUUID());
        Files.createDirectories(socket.getParent());
        try {
            try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                server.bind(UnixDomainSocketAddress.of(socket));
                Files.writeString(bundle.resolve("address"), "unix://" + socket);
                Process dead = new ProcessBuilder("/bin/true").start();
                dead.waitFor();
                Files.writeString(bundle.resolve("shim.pid"), Long.toString(dead.pid()));
                assertFalse(StaleShimSocket.removeIfDead(bundle, log), "a socket someone listens on stays");
            }
            // closed without unlink: what a SIGKILLed daemon leaves
            assertTrue(Files.exists(socket));
            Files.delete(bundle.resolve("shim.pid"));
            assertFalse(StaleShimSocket.removeIfDead(bundle, log), "without shim.pid it is not provably ours");
            Files.writeString(bundle.resolve("shim.pid"), "999999999");
            Files.writeString(bundle.resolve("address"), "unix:///tmp/../run/elsewhere.sock");
            assertFalse(StaleShimSocket.removeIfDead(bundle, log), "only directly under /run/containerd/s");
            Files.writeString(bundle.resolve("address"), "unix://" + socket);
            assertTrue(StaleShimSocket.removeIfDead(bundle, log));
            assertFalse(Files.exists(socket));
        } finally {
            Files.deleteIfExists(socket);
        }
    }
}
