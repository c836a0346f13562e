package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.storage.json.JsonTrees;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delete} after a crash with setup records it cannot decode: each is logged with the field and value at
 * fault, and the rest of the teardown still runs (the state directory is removed).
 */
class SandboxCleanupRecordsTest {

    @TempDir
    Path dir;

    @Test
    void undecodableRecordsAreLoggedWithTheFieldAndTheTeardownGoesOn() throws Exception {
        Path vmDir = Files.createDirectories(dir.resolve("state/sb1"));
        SandboxState state = new SandboxState("sb1", vmDir.toString(), dir.resolve("shared/sb1").toString(), 0,
                List.of(), Map.of("c1", new SandboxState.ContainerState("/b/c1", JsonTrees.parse(
                        "{\"sandboxId\":\"sb1\",\"containerId\":\"c1\",\"steps\":[{\"step\":\"volume-grown\"}]}"))))
                .withPodSetup(JsonTrees.parse("{\"sandboxId\":\"sb1\",\"containerId\":\"sb1\",\"steps\":"
                        + "[{\"step\":\"disk-attached\",\"planDiskId\":\"d0\"}]}"));
        state.save();
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        SandboxCleanup.tearDownSandbox(SandboxState.load(vmDir).orElseThrow(), List.of(),
                new LogfmtLog(out, LogfmtLog.Level.WARN, Map.of()));

        String log = out.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("undoing host setup failed") && log.contains("container=c1")
                && log.contains("steps[0].step: unknown step name") && log.contains("volume-grown"), log);
        assertTrue(log.contains("undoing the pod's storage failed") && log.contains("steps[0].hostPath: missing"), log);
        assertFalse(Files.exists(vmDir), "the state is gone");
    }
}
