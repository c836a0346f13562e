package dev.podvisor.shim;

import dev.podvisor.shim.PodGrouping.ContainerKind;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodGroupingTest {

    @Test
    void ctrRunHasNoAnnotationsAndGetsItsOwnVm() {
        var grouping = PodGrouping.classify("c1", Map.of());
        assertEquals(ContainerKind.SINGLE_CONTAINER, grouping.kind());
        assertEquals("c1", grouping.sandboxId());
    }

    @Test
    void criSandboxAndContainer() {
        assertEquals(new PodGrouping.Grouping(ContainerKind.POD_SANDBOX, "pod1"), PodGrouping.classify("pod1",
                Map.of(PodGrouping.CRI_CONTAINER_TYPE, "sandbox", PodGrouping.CRI_SANDBOX_ID, "pod1")));
        assertEquals(new PodGrouping.Grouping(ContainerKind.POD_CONTAINER, "pod1"), PodGrouping.classify("app",
                Map.of(PodGrouping.CRI_CONTAINER_TYPE, "container", PodGrouping.CRI_SANDBOX_ID, "pod1")));
    }

    @Test
    void crioAndDockershimKeys() {
        assertEquals(ContainerKind.POD_CONTAINER, PodGrouping.classify("app", Map.of(
                PodGrouping.CRIO_CONTAINER_TYPE, "container", PodGrouping.CRIO_SANDBOX_ID, "p")).kind());
        assertEquals(ContainerKind.POD_SANDBOX, PodGrouping.classify("p", Map.of(PodGrouping.DOCKER_TYPE, "podsandbox")).kind());
    }

    @Test
    void badAnnotationsAreNamed() {
        var noSandbox = assertThrows(IllegalArgumentException.class, () ->
                PodGrouping.classify("app", Map.of(PodGrouping.CRI_CONTAINER_TYPE, "container")));
        assertTrue(noSandbox.getMessage().contains(PodGrouping.CRI_SANDBOX_ID));
        var badType = assertThrows(IllegalArgumentException.class, () ->
                PodGrouping.classify("app", Map.of(PodGrouping.CRI_CONTAINER_TYPE, "pod")));
        assertTrue(badType.getMessage().contains("'pod'"));
    }
}
