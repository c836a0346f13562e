package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.clh.CloudHypervisorApiException;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.storage.exec.AttachedDisk;
import dev.podvisor.storage.exec.DiskAttacher;
import dev.podvisor.storage.exec.SandboxDisks;
import dev.podvisor.storage.plan.DiskAttachment;
import dev.podvisor.storage.plan.StorageScope;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskUnplugTest {

    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final LogfmtLog log = new LogfmtLog(out, LogfmtLog.Level.INFO, Map.of());
    final PodMetrics metrics = PodMetrics.forSandbox(Map.of());
    final List<String> removed = new ArrayList<>();

    private String logText() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String errorCount() {
        return metrics.scrape().lines().filter(l -> l.startsWith("podvisor_device_unplug_errors_total"))
                .findFirst().orElse("");
    }

    @Test
    void aRemovedDeviceIsGoneAndNothingIsCounted() {
        DiskUnplug unplug = new DiskUnplug(removed::add, log, metrics);
        assertTrue(unplug.unplug("_disk3"));
        assertEquals(List.of("_disk3"), removed);
        assertTrue(logText().contains("disk detached") && logText().contains("id=_disk3"), logText());
        assertEquals("", errorCount(), "no failure counted");
    }

    @Test
    void anIdTheVmmDoesNotKnowIsAlreadyGone() {
        DiskUnplug unplug = new DiskUnplug(id -> {
            throw new CloudHypervisorApiException("PUT", "vm.remove-device", 404, "[\"Error from API\","
                    + "\"The device could not be removed from the VM\",\"Error from device manager\","
                    + "\"Failed to find device corresponding to the given identifier: " + id + "\"]");
        }, log, metrics);
        assertTrue(unplug.unplug("_disk9"));
        assertTrue(logText().contains("disk already gone from the VM"), logText());
        assertEquals("", errorCount(), "a 404 is not a failure");
    }

    @Test
    void aFailedRemovalIsLoggedAndCountedAndNeverThrown() {
        DiskUnplug unplug = new DiskUnplug(id -> {
            throw new CloudHypervisorApiException("PUT", "vm.remove-device", 500, "[\"Error from API\"]");
        }, log, metrics);
        assertFalse(unplug.unplug("_disk4"));
        DiskUnplug unreachable = new DiskUnplug(id -> {
            throw new IOException("connect: Connection refused");
        }, log, metrics);
        assertFalse(unreachable.unplug("_disk5"));
        assertTrue(logText().contains("level=warn") && logText().contains("id=_disk4")
                && logText().contains("id=_disk5") && logText().contains("Connection refused"), logText());
        assertTrue(errorCount().startsWith("podvisor_device_unplug_errors_total{device=\"disk\"} 2.0"), errorCount());
    }

    /** The sandbox's bookkeeping with this unplug: the last container's release detaches, a failure does not throw. */
    @Test
    void theLastUserUnplugsAndAFailingUnplugDoesNotFailTheRelease() {
        List<String> calls = new ArrayList<>();
        DiskUnplug unplug = new DiskUnplug(id -> {
            calls.add(id);
            throw new CloudHypervisorApiException("PUT", "vm.remove-device", 500, "[\"boom\"]");
        }, log, metrics);
        SandboxDisks disks = new SandboxDisks(new DiskAttacher() {
            @Override
            public AttachedDisk attach(Path hostPath, boolean readOnly) {
                return new AttachedDisk("_disk1", "05");
            }

            @Override
            public void detach(String id) {
                unplug.unplug(id);
            }
        });
        DiskAttachment volume = new DiskAttachment("d0", "/dev/loop7", false, DiskAttachment.DiskType.VIRTIO_BLK,
                StorageScope.CONTAINER);
        disks.acquire("a", volume);
        disks.acquire("b", volume);
        assertFalse(disks.release("a", "/dev/loop7", "_disk1"), "b still uses the disk");
        assertEquals(List.of(), calls);
        assertTrue(disks.release("b", "/dev/loop7", "_disk1"), "the last user detaches");
        assertEquals(List.of("_disk1"), calls);
        assertTrue(errorCount().contains(" 1.0"), errorCount());
    }
}
