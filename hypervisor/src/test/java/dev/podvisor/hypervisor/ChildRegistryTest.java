package dev.podvisor.hypervisor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChildRegistryTest {

    @Test
    void aSpawnedChildIsRecordedAtOnceAndStoppedWithinTheBudget(@TempDir Path dir) throws Exception {
        Process sleeper = ChildProcesses.spawn(List.of("/bin/sh", "-c", "trap '' TERM; exec sleep 60"), dir.resolve("out.log"));
        try {
            List<ChildRegistry.Child> children = ChildRegistry.in(dir).children();
            assertEquals(1, children.size(), children.toString());
            assertEquals(sleeper.pid(), children.getFirst().pid());
            assertEquals("sh", children.getFirst().kind());
            assertTrue(children.getFirst().isRunning());
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(ChildRegistry.in(dir).file())));

            // it ignores SIGTERM: SIGKILL comes once half the budget is spent (a generous budget: a loaded
            // machine may take a while to run the killed process's exit)
            List<ChildRegistry.Child> left = ChildRegistry.stopAll(children, Duration.ofSeconds(10));
            assertEquals(List.of(), left);
            assertTrue(sleeper.waitFor(5, java.util.concurrent.TimeUnit.SECONDS));
            assertFalse(children.getFirst().isRunning());
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void aRecordWithAnotherStartTimeIsNeverSignalled() {
        long self = ProcessHandle.current().pid();
        long ticks = ChildRegistry.startTicks(self).orElseThrow();
        ChildRegistry.Child reused = new ChildRegistry.Child("cloud-hypervisor", self, ticks + 1);
        assertFalse(reused.isRunning(), "same pid, other start time: another process");
        assertEquals(List.of(), ChildRegistry.stopAll(List.of(reused), Duration.ofMillis(100)));
        assertTrue(ProcessHandle.current().isAlive());
    }

    @Test
    void tornOrMissingFilesReadAsWhatTheyHold(@TempDir Path dir) throws Exception {
        assertEquals(List.of(), ChildRegistry.in(dir).children());
        Files.writeString(dir.resolve(ChildRegistry.FILE), "virtiofsd 12 34\ncloud-hyp");
        assertEquals(List.of(new ChildRegistry.Child("virtiofsd", 12, 34)), ChildRegistry.in(dir).children());
    }
}
