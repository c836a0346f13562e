package dev.podvisor.storage.plan;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import dev.podvisor.storage.spec.OciMount;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code special_volumes} checks (docs/virtio-fs.md "Errors") for every kind of container: a single
 * container ({@code ctr run}, its own sandbox), a pod's sandbox container and a pod's workload container. Each
 * error names the annotation and the token.
 */
class SpecialVolumeChecksTest {

    static final String RFC_DEVICES = "dev01:--thread-pool-size=1";
    static final PlannerSettings RFC = new PlannerSettings(EmptyDirMode.SHARED_FS, false, Map.of(), List.of("extra_virtiofs"));
    static final PlannerSettings TWO = new PlannerSettings(EmptyDirMode.SHARED_FS, false,
            Map.of("fast", List.of("--cache=always"), "slow", List.of("--cache=never")), List.of());

    private static PlanInput single(PlannerSettings settings, Map<String, String> annotations, OciMount... mounts) {
        return new PlanInput(settings, "c1", "c1", true, annotations, spec(mounts), List.of(), Path.of(BUNDLE));
    }

    private static PlanException refused(PlanInput input) {
        return assertThrows(PlanException.class, () -> StoragePlanner.plan(input, node().build()));
    }

    private static void assertNamed(PlanException e, String token, String problem) {
        String want = "annotation io.katacontainers.config.runtime.special_volumes: token '" + token + "': " + problem;
        assertTrue(e.getMessage().startsWith(want), e.getMessage() + "\nshould start with\n" + want);
    }

    @Test
    void theRfcTypoIsRefusedForASingleContainer() {
        PlanException e = refused(single(RFC, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, RFC_DEVICES,
                PodStorageConfig.SPECIAL_VOLUMES, "dev01:/my-volume/foo"), bind("/my-v0lumes/f00", DATA)));
        assertNamed(e, "dev01:/my-volume/foo", "No virtiofs device was found for container special volume '/my-volume/foo' (device 'dev01')");
        assertTrue(e.getMessage().contains("[/my-v0lumes/f00]"), "the mounts it could have meant are listed: " + e.getMessage());
    }

    @Test
    void theRfcTypoIsRefusedForAPodContainer() {
        PlanInput in = new PlanInput(RFC, "sb1", "c1", false, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, RFC_DEVICES,
                PodStorageConfig.SPECIAL_VOLUMES, "dev01:/my-volume/foo"), spec(bind("/my-v0lumes/f00", DATA)), List.of(), Path.of(BUNDLE));
        assertNamed(refused(in), "dev01:/my-volume/foo", "No virtiofs device was found for container special volume");
    }

    @Test
    void aPodSandboxContainerCarriesThePodAnnotationsWithoutTheMounts() {
        Map<String, String> ann = Map.of(PodStorageConfig.EXTRA_VIRTIOFS, RFC_DEVICES, PodStorageConfig.SPECIAL_VOLUMES,
                "dev01:/my-volume/foo", "io.kubernetes.cri.container-type", "sandbox");
        StoragePlan plan = StoragePlanner.plan(single(RFC, ann), node().build());
        assertEquals(List.of("dev01"), plan.virtioFsDevices().stream().map(VirtioFsDevice::name).toList());
        // but its annotation is still checked for what it can be checked for
        PlanException e = refused(single(RFC, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, RFC_DEVICES,
                PodStorageConfig.SPECIAL_VOLUMES, "dev02:/my-volume/foo", "io.kubernetes.cri.container-type", "sandbox")));
        assertNamed(e, "dev02:/my-volume/foo", "unknown device 'dev02' in 'dev02:/my-volume/foo' (extra virtio-fs devices: [dev01])");
    }

    @Test
    void aMatchingMountGoesToItsDeviceForASingleContainer() {
        StoragePlan plan = StoragePlanner.plan(single(RFC, Map.of(PodStorageConfig.EXTRA_VIRTIOFS, RFC_DEVICES,
                PodStorageConfig.SPECIAL_VOLUMES, "dev01:/my-volume/foo/"), bind("/my-volume/foo", DATA)), node().build());
        assertEquals("dev01", plan.mounts().getFirst().device());
        assertEquals(Map.of("/my-volume/foo", new SpecialVolumeClaim("c1", "dev01")), plan.specialVolumeClaims());
    }

    @Test
    void malformedEntries() {
        Map<String, String> cases = Map.of(
                "fast/data", "malformed entry 'fast/data': no device name",
                "fast:", "malformed entry 'fast:': no container path",
                ":/data", "malformed entry ':/data': no device name",
                "fast:data", "malformed entry 'fast:data': container path 'data' is not an absolute path without '..'",
                "fast:/data/../etc", "malformed entry 'fast:/data/../etc': container path '/data/../etc'",
                "fast:/data,", "malformed entry 'fast:/data,': no container path");
        cases.forEach((value, problem) -> {
            PlanException e = refused(single(TWO, Map.of(PodStorageConfig.SPECIAL_VOLUMES, value), bind("/data", DATA)));
            assertTrue(e.getMessage().contains("annotation io.katacontainers.config.runtime.special_volumes: token '"), e.getMessage());
            assertTrue(e.getMessage().contains(problem), e.getMessage() + "\nshould contain " + problem);
        });
    }

    @Test
    void anUnknownDevice() {
        PlanException e = refused(single(TWO, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data;medium:/data"), bind("/data", DATA)));
        assertNamed(e, "medium:/data", "unknown device 'medium' in 'medium:/data' (extra virtio-fs devices: ");
    }

    @Test
    void onePathToTwoDevicesInOneAnnotation() {
        PlanException e = refused(single(TWO, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data;slow:/data/"), bind("/data", DATA)));
        assertNamed(e, "slow:/data/", "container path '/data/' is sent to two devices, 'fast' and 'slow'");
    }

    @Test
    void twoContainersOfOnePodMayNotDisagree() {
        PlanInput first = new PlanInput(TWO, "sb1", "app", false, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data"),
                spec(bind("/data", DATA)), List.of(), Path.of(BUNDLE));
        Map<String, SpecialVolumeClaim> claims = StoragePlanner.plan(first, node().build()).specialVolumeClaims();
        PlanInput second = new PlanInput(TWO, "sb1", "sidecar", false, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "slow:/data"),
                spec(bind("/data", DATA)), List.of(), Path.of(BUNDLE)).withPodSpecialVolumes(claims);
        assertNamed(refused(second), "slow:/data",
                "container path '/data' is sent to device 'slow', but container app of the same pod sends it to device 'fast'");
        PlanInput agreeing = new PlanInput(TWO, "sb1", "sidecar", false, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/data"),
                spec(bind("/data", DATA)), List.of(), Path.of(BUNDLE)).withPodSpecialVolumes(claims);
        assertEquals("fast", StoragePlanner.plan(agreeing, node().build()).mounts().getFirst().device());
    }

    @Test
    void aMountAnEarlierRuleTakesIsNotSilentlyKeptFromItsDevice() {
        PlanException e = refused(single(TWO, Map.of(PodStorageConfig.SPECIAL_VOLUMES, "fast:/cache"), bind("/cache", CACHE)));
        assertNamed(e, "fast:/cache", "container special volume '/cache' (device 'fast') cannot be served by a virtio-fs device: "
                + "rule 'emptydir-tmpfs' decided it (guest-tmpfs)");
    }

    @Test
    void theChecksRunInTheDocumentedOrder() {
        assertEquals(List.of("well-formed", "known-device", "one-device", "pod-agreement", "matched-mount", "served-by-device"),
                SpecialVolumeCheck.ORDER.stream().map(SpecialVolumeCheck::id).toList());
    }
}
