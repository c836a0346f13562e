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
        PlannerSettings s = new PlannerSettings(null, false, null, List.of("enable_iommu", "extra_.*"));
        assertTrue(s.hypervisorAnnotationEnabled("extra_virtiofs"));
        assertFalse(s.hypervisorAnnotationEnabled("virtio_fs_extra_args"));
        assertFalse(s.hypervisorAnnotationEnabled("enable_iommu_x"), "full match, as Kata");
        assertThrows(IllegalArgumentException.class, () -> new PlannerSettings(null, false, null, List.of("(")));
    }

    @Test
    void sandboxBindMountsWithTheSameNameOnOneDeviceAreAnError() {
        var facts = node().directory("/a/conf", 0, 8, 1).directory("/b/conf", 0, 8, 1).build();
        PlanException e = assertThrows(PlanException.class, () -> StoragePlanner.plan(new PlanInput(PlannerSettings.defaults(), "sb1",
                "sb1", true, Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf /b/conf@rw"), spec(), List.of(), Path.of(BUNDLE)), facts));
        assertTrue(e.getMessage().contains("same name 'conf'"), e.getMessage());
        StoragePlan app = StoragePlanner.plan(new PlanInput(PlannerSettings.defaults(), "sb1", "c1", false,
                Map.of(PodStorageConfig.SANDBOX_BIND_MOUNTS, "/a/conf"), spec(), List.of(), Path.of(BUNDLE)), facts);
        assertTrue(app.hostActions().stream().noneMatch(a -> a.toString().contains("sandbox-mounts")),
                "sandbox-wide binds are planned once, with the sandbox container");
    }
}
