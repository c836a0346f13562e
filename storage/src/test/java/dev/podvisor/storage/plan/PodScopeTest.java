package dev.podvisor.storage.plan;

import static dev.podvisor.storage.plan.Fixture.*;
import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Which decisions are pod-scoped ({@link StorageScope}): a pod's volumes live as long as the pod. */
class PodScopeTest {

    private static final String SECRET = POD + "/volumes/kubernetes.io~secret/token";
    private static final String TERMINATION_LOG = POD + "/containers/app/0a1b2c3d";

    @Test
    void kubeletVolumeSharesArePodScopedPerContainerFilesAndHostPathsAreNot() {
        var facts = node().directory(SECRET, 0, 0, 70).regularFile(TERMINATION_LOG, 0, 8, 2).build();
        StoragePlan plan = plan(facts, bind("/var/run/secrets/token", SECRET, "ro"), bind("/dev/termination-log", TERMINATION_LOG),
                bind("/data", DATA), bind("/etc/hosts", HOSTS));
        assertEquals(StorageScope.POD, plan.mounts().get(0).scope(), "a secret volume directory");
        assertEquals(StorageScope.CONTAINER, plan.mounts().get(1).scope(), "kubelet's per-container termination log");
        assertEquals(StorageScope.CONTAINER, plan.mounts().get(2).scope(), "a hostPath: its data lives on the host");
        assertEquals(StorageScope.CONTAINER, plan.mounts().get(3).scope());
        for (HostAction a : plan.hostActions()) {
            if (a instanceof HostAction.ShareBind s) {
                assertEquals(s.source().equals(SECRET) ? StorageScope.POD : StorageScope.CONTAINER, s.scope(), s.toString());
            }
        }
    }

    @Test
    void devShmIsTheSandboxsAndTheRootfsIsTheContainers() {
        StoragePlan plan = plan(node().build(), bind("/dev/shm", SHM));
        assertEquals(StorageScope.POD, only(plan).scope());
        assertTrue(plan.hostActions().stream().filter(a -> a instanceof HostAction.ShareBind)
                .allMatch(a -> ((HostAction.ShareBind) a).scope() == StorageScope.CONTAINER), "the rootfs share");
    }

    @Test
    void aDiskUsedByThePodStaysPodScopedWhenAlsoUsedOtherwise() {
        PlanBuilder b = new PlanBuilder(input(spec()), node().build(), null, null);
        String id = b.disk("/img", true, DiskAttachment.DiskType.VIRTIO_BLK, StorageScope.POD);
        assertEquals(id, b.disk("/img", false, DiskAttachment.DiskType.VIRTIO_BLK));
        assertEquals(new DiskAttachment(id, "/img", false, DiskAttachment.DiskType.VIRTIO_BLK, StorageScope.POD), b.disks.getFirst());
    }
}
