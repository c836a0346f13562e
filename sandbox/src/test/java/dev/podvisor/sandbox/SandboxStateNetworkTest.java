package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.sandbox.network.HostNetwork;
import dev.podvisor.storage.spec.OciSpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The network parts of the sandbox state and of the guest's container spec. */
class SandboxStateNetworkTest {

    @TempDir
    Path dir;

    @Test
    void theWiringSurvivesSaveAndLoadAndIsCarriedByEveryChange() {
        HostNetwork wired = new HostNetwork("/var/run/netns/cni-1",
                List.of(new HostNetwork.Nic("eth0", "tap0_kata", true, true)));
        SandboxState state = new SandboxState("sb", dir.toString(), "/share/sb", 0, List.of(), Map.of())
                .withNetwork(wired).withProcesses(42, List.of(43L))
                .withContainer("c1", new SandboxState.ContainerState("/b", null)).withoutContainer("c1");
        state.save();
        SandboxState loaded = SandboxState.load(dir).orElseThrow();
        assertEquals(state, loaded);
        assertEquals(wired, loaded.network());
        SandboxState plain = new SandboxState("sb", dir.toString(), "/share/sb", 0, List.of(), Map.of());
        plain.save();
        assertNull(SandboxState.load(dir).orElseThrow().network());
    }

    @Test
    void theGuestSpecHasNoNetworkCgroupOrTimeNamespaceAndNoPaths() throws Exception {
        String json = """
                {"ociVersion":"1.1.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},
                 "hooks":{"prestart":[{"path":"/bin/true"}]},
                 "linux":{"namespaces":[{"type":"pid"},{"type":"network","path":"/var/run/netns/cni-1"},
                   {"type":"ipc","path":"/proc/7/ns/ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"},
                   {"type":"time"}]}}""";
        JsonNode guest = ContainerStorage.forGuest(OciSpec.parse(json.getBytes(StandardCharsets.UTF_8)));
        assertEquals(new ObjectMapper().readTree("[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}]"),
                guest.path("linux").path("namespaces"));
        assertFalse(guest.has("hooks"));
    }
}
