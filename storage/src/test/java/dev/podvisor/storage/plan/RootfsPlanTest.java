package dev.podvisor.storage.plan;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.storage.host.RecordedHostFacts;
import dev.podvisor.storage.spec.OciMount;
import dev.podvisor.storage.spec.OciSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RootfsPlanTest {

    private static final String GUEST_ROOT = GuestPaths.SHARED_CONTAINERS + "/c1/rootfs";

    private static StoragePlan planRootfs(PlannerSettings settings, RecordedHostFacts facts, List<RootfsMount> rootfs) {
        return StoragePlanner.plan(input(settings, Map.of(), spec(), rootfs), facts);
    }

    @Test
    void blockDeviceRootfsIsAttachedNotMountedOnTheHost() {
        RecordedHostFacts facts = node().blockDevice("/dev/mapper/snap-42", 253, 4, false).build();
        StoragePlan plan = planRootfs(PlannerSettings.defaults(), facts, List.of(new RootfsMount("ext4", "/dev/mapper/snap-42", List.of("rw"))));
        RootfsDecision r = plan.rootfs();
        assertEquals(MountKind.VIRTIO_BLK, r.kind());
        assertFalse(r.hostMount());
        assertEquals("rootfs-block-device", r.rule());
        assertEquals(GUEST_ROOT, r.guestPath());
        assertEquals(GUEST_ROOT, plan.guestRootPath());
        assertTrue(plan.hostActions().stream().noneMatch(a -> a instanceof HostAction.RootfsHostMount));
        assertTrue(plan.hostActions().contains(new HostAction.ShareMountPoint(GuestPaths.KATA_SHARED, "c1/rootfs")));
        GuestStorage s = plan.storages().getFirst();
        assertEquals("blk", s.driver());
        assertEquals("ext4", s.fstype());
        assertEquals(GUEST_ROOT, s.mountPoint());
        assertEquals("disk0", s.diskId());
    }

    @Test
    void xfsRootfsGetsNouuidAndLoopFilesAreDisks() {
        RecordedHostFacts facts = node().blockDevice("/dev/vdb", 252, 16, false)
                .regularFile("/var/lib/containerd/blockfile/snap.img", 1L << 30, 8, 2).build();
        StoragePlan xfs = planRootfs(PlannerSettings.defaults(), facts, List.of(new RootfsMount("xfs", "/dev/vdb", List.of())));
        assertEquals(List.of("nouuid"), xfs.storages().getFirst().options());
        StoragePlan loop = planRootfs(PlannerSettings.defaults(), facts,
                List.of(new RootfsMount("ext4", "/var/lib/containerd/blockfile/snap.img", List.of("loop", "rw"))));
        assertEquals("rootfs-loop-file", loop.rootfs().rule());
        assertEquals(MountKind.VIRTIO_BLK, loop.rootfs().kind());
        assertEquals(List.of("rw"), loop.storages().getFirst().options());
        assertEquals("/var/lib/containerd/blockfile/snap.img", loop.disks().getFirst().hostPath());
    }

    @Test
    void disableBlockDeviceUseForcesVirtioFs() {
        RecordedHostFacts facts = node().blockDevice("/dev/vdb", 252, 16, false).build();
        PlannerSettings s = new PlannerSettings(EmptyDirMode.SHARED_FS, true, Map.of(), List.of());
        StoragePlan plan = planRootfs(s, facts, List.of(new RootfsMount("ext4", "/dev/vdb", List.of())));
        assertEquals(MountKind.VIRTIO_FS, plan.rootfs().kind());
        assertTrue(plan.rootfs().hostMount());
        assertTrue(plan.rootfs().reason().contains("disable_block_device_use"));
        assertTrue(plan.disks().isEmpty());
    }

    @Test
    void overlayIsMountedOnTheHostAndShared() {
        StoragePlan plan = StoragePlanner.plan(input(spec()), node().build());
        RootfsDecision r = plan.rootfs();
        assertEquals(MountKind.VIRTIO_FS, r.kind());
        assertTrue(r.hostMount());
        assertEquals("rootfs-host-mount", r.rule());
        assertEquals(GuestPaths.KATA_SHARED, r.device());
        assertInstanceOf(HostAction.RootfsHostMount.class, plan.hostActions().get(0));
        assertEquals(new HostAction.ShareBind(GuestPaths.KATA_SHARED, "c1/rootfs", BUNDLE + "/rootfs", false, true), plan.hostActions().get(1));
        assertTrue(plan.storages().isEmpty());
    }

    @Test
    void rootfsOnXfsBackedVarIsNeverHotPlugged() {
        RecordedHostFacts facts = node().blockDevice("/dev/sda2", 8, 2, false)
                .directory("/var/lib/docker/bundle/rootfs", 0, 8, 2).build();
        PlanInput in = new PlanInput(PlannerSettings.defaults(), "sb1", "c1", false, Map.of(), spec(), List.of(),
                Path.of("/var/lib/docker/bundle"));
        StoragePlan plan = StoragePlanner.plan(in, facts);
        assertEquals(MountKind.VIRTIO_FS, plan.rootfs().kind());
        assertFalse(plan.rootfs().hostMount());
        assertEquals("rootfs-bundle", plan.rootfs().rule());
        assertTrue(plan.rootfs().reason().contains("never hot-plugged"), plan.rootfs().reason());
        assertTrue(plan.disks().isEmpty());
        assertTrue(plan.hostActions().contains(new HostAction.ShareBind(GuestPaths.KATA_SHARED, "c1/rootfs", "/var/lib/docker/bundle/rootfs", false, true)));
    }

    @Test
    void premountedDeviceWithRootfsSubdirectory() {
        String mnt = "/var/lib/docker/devicemapper/mnt/abc";
        RecordedHostFacts facts = node().blockDevice("/dev/mapper/docker-abc", 253, 7, false)
                .mountInfo("200 20 253:7 / " + mnt + " rw - xfs /dev/mapper/docker-abc rw")
                .directory(mnt + "/rootfs", 0, 253, 7).build();
        ObjectMapperSpec spec = new ObjectMapperSpec(mnt + "/rootfs");
        PlanInput in = new PlanInput(PlannerSettings.defaults(), "sb1", "c1", false, Map.of(), spec.spec, List.of(), Path.of("/run/bundle-c1"));
        StoragePlan plan = StoragePlanner.plan(in, facts);
        assertEquals("rootfs-device-subdir", plan.rootfs().rule());
        assertEquals(MountKind.VIRTIO_BLK, plan.rootfs().kind());
        assertEquals(GUEST_ROOT, plan.guestRootPath());
        GuestStorage s = plan.storages().getFirst();
        assertEquals(GuestPaths.SHARED_CONTAINERS + "/c1", s.mountPoint());
        assertEquals(List.of("nouuid"), s.options());
        assertEquals("/dev/mapper/docker-abc", plan.disks().getFirst().hostPath());
    }

    /** A spec whose root.path is absolute. */
    private record ObjectMapperSpec(OciSpec spec) {
        ObjectMapperSpec(String rootPath) {
            this(Fixture.spec().withRootPath(rootPath));
        }
    }

    @Test
    void guestSpecAndJsonShape() throws Exception {
        StoragePlan plan = plan(node().build(), bind("/cache", CACHE), new OciMount("/proc", "proc", "proc", List.of()));
        OciSpec guest = plan.guestSpec(spec(bind("/cache", CACHE), new OciMount("/proc", "proc", "proc", List.of())));
        assertEquals(GUEST_ROOT, guest.rootPath().orElseThrow());
        assertEquals(GuestPaths.EPHEMERAL + "/cache", guest.mounts().getFirst().source());
        assertEquals("1.2.0", guest.raw().get("ociVersion").asText(), "other fields survive");

        JsonNode json = new ObjectMapper().readTree(PlanJson.toJson(plan, true));
        assertEquals("virtio-fs", json.at("/rootfs/kind").asText());
        assertTrue(json.at("/rootfs/hostMount").asBoolean());
        assertEquals(GUEST_ROOT, json.at("/rootfs/guestPath").asText());
        JsonNode m = json.at("/mounts/0");
        for (String field : List.of("destination", "source", "kind", "device", "sizeBytes", "readOnly", "rule", "reason")) {
            assertTrue(m.has(field), field);
        }
        assertEquals("guest-tmpfs", m.get("kind").asText());
        assertEquals(64 * MIB, m.get("sizeBytes").asLong());
        assertEquals("emptydir-tmpfs", m.get("rule").asText());
        assertEquals("pod", m.get("scope").asText());
        assertEquals("pod", json.at("/storages/0/scope").asText());
        assertTrue(json.at("/storages/0/shared").asBoolean());
        assertEquals("passthrough", json.at("/mounts/1/kind").asText());
        assertEquals("container", json.at("/mounts/1/scope").asText());
        assertEquals("share-bind", json.at("/hostActions/1/action").asText());

        String table = PlanTable.render(plan);
        assertTrue(table.contains("DESTINATION"), table);
        assertTrue(table.lines().anyMatch(l -> l.startsWith("/cache") && l.contains("guest-tmpfs") && l.contains("64 MiB")
                && l.contains(" pod ") && l.contains("emptydir-tmpfs")), table);
        assertTrue(table.contains("SCOPE"), table);
        assertTrue(table.contains("a tmpfs of 64 MiB"), table);
    }
}
