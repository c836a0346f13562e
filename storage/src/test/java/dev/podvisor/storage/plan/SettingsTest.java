package dev.podvisor.storage.plan;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {

    @Test
    void extraVirtiofsDeviceNamesAreChecked() {
        PlanException reserved = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(
                new PlannerSettings(EmptyDirMode.SHARED_FS, false, Map.of("rw", List.of()), List.of()), Map.of(), spec(), List.of()),
                node().build()));
        assertTrue(reserved.getMessage().contains("device name 'rw'"), reserved.getMessage());
        assertEquals("", reserved.rule(), "refused before any rule decided");
    }

    @Test
    void annotationGates() {
        PlannerSettings s = new PlannerSettings(null, false, null, List.of("enable_iommu", "^extra_.*"));
        assertTrue(s.hypervisorAnnotationEnabled("extra_virtiofs"));
        assertFalse(s.hypervisorAnnotationEnabled("virtio_fs_extra_args"), "anchored by the pattern");
        assertTrue(s.hypervisorAnnotationEnabled("enable_iommu_x"), "unanchored, as Go's regexp.MatchString in Kata");
        assertFalse(s.hypervisorAnnotationEnabled("kernel_params"));
        assertThrows(IllegalArgumentException.class, () -> new PlannerSettings(null, false, null, List.of("(")));
    }

    @Test
    void sandboxBindMountsWithTheSameNameOnOneDeviceAreAnError() {
        var facts = node().directory("/a/conf", 0, 8, 1).directory("/b/conf", 0, 8, 1).build();
        PlannerSettings gate = new PlannerSettings(null, false, null, List.of("sandbox_bind_mounts"));
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(gate, "sb1",
                "sb1", true, Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf /b/conf"), spec(), List.of(), Path.of(BUNDLE)), facts));
        assertTrue(e.getMessage().contains("same name 'conf'"), e.getMessage());
        StoragePlan app = StoragePlanner.plan(new PlanInput(gate, "sb1", "c1", false,
                Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf"), spec(), List.of(), Path.of(BUNDLE)), facts);
        assertTrue(app.hostActions().stream().noneMatch(a -> a.toString().contains("sandbox-mounts")),
                "sandbox-wide binds are planned once, with the sandbox container");
    }

    @Test
    void sandboxBindMountsNeedTheAnnotationGateAndNeverGetRwFromAnAnnotation() {
        var facts = node().directory("/a/conf", 0, 8, 1).build();
        PlanException closed = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(
                PlannerSettings.defaults(), "sb1", "sb1", true, Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf"),
                spec(), List.of(), Path.of(BUNDLE)), facts));
        assertTrue(closed.getMessage().startsWith("annotation " + PodStorageConfig.SANDBOX_BIND_MOUNTS + " is not enabled"),
                closed.getMessage());
        PlannerSettings gate = new PlannerSettings(null, false, null, List.of("sandbox_bind_.*"));
        PlanException rw = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(gate, "sb1", "sb1",
                true, Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf@rw"), spec(), List.of(), Path.of(BUNDLE)), facts));
        assertTrue(rw.getMessage().contains("entry '/a/conf@rw': @rw is refused from an annotation"), rw.getMessage());
    }

    @Test
    void configuredSandboxBindMountsNeedNoGateMayBeRwAndAreNamedInErrors() {
        var facts = node().directory("/a/conf", 0, 8, 1).regularFile("/b/log.txt", 10, 8, 1).build();
        PlannerSettings configured = new PlannerSettings(null, false, null, List.of(), List.of("/a/conf", "/b/log.txt@rw"));
        StoragePlan plan = StoragePlanner.plan(new PlanInput(configured, "sb1", "sb1", true, Map.of(), spec(), List.of(),
                Path.of(BUNDLE)), facts);
        List<String> binds = plan.hostActions().stream().map(Object::toString).filter(a -> a.contains("sandbox-mounts")).toList();
        assertEquals(2, binds.size(), binds.toString());
        assertTrue(binds.get(0).contains("sandbox-mounts/conf") && binds.get(0).contains("readOnly=true"), binds.get(0));
        assertTrue(binds.get(1).contains("sandbox-mounts/log.txt") && binds.get(1).contains("readOnly=false"), binds.get(1));

        PlannerSettings missing = new PlannerSettings(null, false, null, List.of(), List.of("/nowhere@ro"));
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(missing, "sb1", "sb1",
                true, Map.of(), spec(), List.of(), Path.of(BUNDLE)), facts));
        assertEquals("[runtime] sandbox_bind_mounts: host path '/nowhere' does not exist", e.getMessage());
        PlannerSettings badMode = new PlannerSettings(null, false, null, List.of(), List.of("/a/conf@rx"));
        PlanException mode = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(badMode, "sb1", "sb1",
                true, Map.of(), spec(), List.of(), Path.of(BUNDLE)), facts));
        assertTrue(mode.getMessage().startsWith("[runtime] sandbox_bind_mounts: malformed entry '/a/conf@rx'"), mode.getMessage());
    }

    @Test
    void extraVirtiofsAnnotationArgumentsAreSplitAsTheConfigurationSplitsThem() {
        PlannerSettings gate = new PlannerSettings(null, false, null, List.of("extra_virtiofs"));
        StoragePlan plan = StoragePlanner.plan(input(gate, Map.of(PodStorageConfig.EXTRA_VIRTIOFS,
                "dev01:--thread-pool-size=2  -o 'xattr'"), spec(), List.of()), node().build());
        assertEquals(List.of("--thread-pool-size=2", "-o", "xattr"), plan.virtioFsDevices().getFirst().virtiofsArgs());
        PlanException open = assertThrows(PlanException.class, () -> StoragePlanner.plan(input(gate,
                Map.of(PodStorageConfig.EXTRA_VIRTIOFS, "dev01:-o 'xattr"), spec(), List.of()), node().build()));
        assertEquals("annotation " + PodStorageConfig.EXTRA_VIRTIOFS + ": device 'dev01': unterminated single quote", open.getMessage());
    }
}
