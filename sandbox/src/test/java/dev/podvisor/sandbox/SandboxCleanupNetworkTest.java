package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.network.PodNetwork;
import dev.podvisor.sandbox.network.ScratchPodNetns;
import dev.podvisor.sandbox.network.TcFilterNetwork;
import dev.podvisor.storage.linux.Linux;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code delete} after the daemon died: the taps and tc wiring recorded in sandbox.json are removed from the
 * pod netns, and nothing else in it (root).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SandboxCleanupNetworkTest {

    @RegisterExtension
    final ScratchPodNetns pod = new ScratchPodNetns();

    @TempDir
    Path dir;

    @Test
    void deleteUndoesThePersistedWiring() throws Exception {
        PodNetwork network = PodNetwork.plan("tcfilter", new ObjectMapper().readTree(
                "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"" + pod.path + "\"}]}}"), LogfmtLog.discard());
        Path vmDir = Files.createDirectories(dir.resolve("state/sb1"));
        SandboxState[] state = {new SandboxState("sb1", vmDir.toString(), dir.resolve("shared/sb1").toString(), 0,
                List.of(), Map.of())};
        TcFilterNetwork.Wired wired = TcFilterNetwork.wire(pod.path, network.endpoints(), record -> {
            state[0] = state[0].withNetwork(record);
            state[0].save();
        }, LogfmtLog.discard());
        wired.tapFds().forEach(Linux::closeQuietly);
        assertTrue(pod.ip("link", "show").contains("tap0_kata"));
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        SandboxCleanup.linkBundle(bundle, vmDir);

        SandboxCleanup.cleanupContainer(bundle, "sb1", Optional.empty(), LogfmtLog.discard());

        assertFalse(pod.ip("link", "show").contains("tap0_kata"), "the tap is gone");
        assertEquals("", pod.tc("qdisc", "show", "dev", "eth0", "ingress").strip(), "the veth's qdisc is gone");
        assertTrue(pod.ip("addr", "show", "eth0").contains("10.88.0.5/16"), "the veth is untouched");
        assertFalse(Files.exists(vmDir), "the state is gone");
    }
}
