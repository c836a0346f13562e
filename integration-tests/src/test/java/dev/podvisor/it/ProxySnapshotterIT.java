package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.it.snapshotter.ProxySnapshotter;
import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.Poll;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;
import dev.podvisor.it.support.TestbedLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A block rootfs on a real block device through a real containerd: the test's own proxy snapshotter
 * ({@link ProxySnapshotter}, containerd's snapshots gRPC API; each snapshot an ext4 image on a loop device, handed
 * out as {@code ext4} on {@code /dev/loopN}, the shape of devmapper's mounts) is configured as containerd's
 * {@code [proxy_plugins.podblk]}; {@code ctr run --snapshotter podblk} unpacks busybox into it and starts the
 * container on the testbed. The shim hot-plugs the loop device as virtio-blk ({@code vm.add-disk} in the
 * stand-in's log) and the guest mounts it as the rootfs: the container reads its image's files and writes to its
 * rootfs; neither the test's nor containerd's mount table ever shows the device. Once the container is removed,
 * containerd removes its snapshot and the loop device is detached; nothing is left. Runs on containerd 1.6 and 2.1.
 */
class ProxySnapshotterIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String SNAPSHOTTER = "podblk";
    static final String LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

    @TempDir
    Path dir;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void snapshot() {
        before = Leftovers.take();
        markers.add(dir.toString());
    }

    @AfterEach
    void nothingLeft() {
        Leftovers.assertNothingNewSince(before, markers);
    }

    @Test
    void aLoopDeviceSnapshotIsTheGuestsRootfsAndNeverMountedOnTheHost() throws Exception {
        Path config = TestbedConfig.write(dir.resolve("config"), "", 30);
        Path stateDir = dir.resolve("config/state");
        Path images = dir.resolve("snapshots");
        String[] rootfs = new String[1];
        try (ProxySnapshotter snap = ProxySnapshotter.start(images, dir.resolve("snap.sock"))) {
            PrivateContainerd containerd = PrivateContainerd.builder().runtimeConfig(config)
                    .shim(Installed.get().shimLauncher()).proxySnapshotter(SNAPSHOTTER, snap.socket()).start();
            try (containerd) {
                // containerd dials the proxy when it starts; a first handshake that took too long on a loaded
                // machine leaves the connection in back-off for a moment ("timed out waiting for server handshake")
                assertTrue(Poll.until(() -> containerd.ctr("snapshots", "--snapshotter", SNAPSHOTTER, "ls").ok(), true,
                        Duration.ofSeconds(60)), "containerd reaches the proxy snapshotter");
                BusyboxImage.importInto(containerd, "default");
                String id = containerd.uniqueId("proxysnap");
                containerd.ctr(Duration.ofSeconds(180), "run", "-d", "--snapshotter", SNAPSHOTTER, "--runtime", RUNTIME,
                        BusyboxImage.NAME, id, "sh", "-c", LOOP).requireSuccess();

                Map<String, String> active = snap.activeDevices();
                assertEquals(1, active.size(), "one active snapshot, the container's rootfs: " + active);
                String device = active.values().iterator().next();
                rootfs[0] = device;
                assertTrue(device.startsWith("/dev/loop"), device);
                assertEquals(images.toString(), backingDir(device), "the rootfs device is one of the snapshotter's images");

                CommandResult inside = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "w", id, "sh", "-c",
                        "wc -c < /bin/busybox && ls /bin | grep -c . && echo written > /rootfs-file && sync"
                                + " && cat /rootfs-file && grep ' / ' /proc/mounts");
                assertEquals(0, inside.exitCode(), inside.toString());
                List<String> lines = inside.stdout().lines().toList();
                assertTrue(Long.parseLong(lines.get(0).strip()) > 100_000, "the image's busybox is readable: " + inside);
                assertTrue(Integer.parseInt(lines.get(1).strip()) > 10, "the image's /bin is listed: " + inside);
                assertEquals("written", lines.get(2), "the write to the rootfs reads back: " + inside);
                assertTrue(lines.get(3).contains(" ext4 "), "the rootfs is the ext4 snapshot in the guest: " + inside);

                String majorMinor = Commands.run(List.of("lsblk", "-dno", "MAJ:MIN", device)).requireSuccess().out().strip();
                for (Path table : List.of(Path.of("/proc/self/mountinfo"), Path.of("/proc/" + containerd.pid() + "/mountinfo"))) {
                    assertNotMounted(table, device, majorMinor);
                }

                List<JsonNode> added = TestbedLog.apiRequests(TestbedLog.read(stateDir.resolve(id).resolve("testbed.jsonl")),
                        "vm.add-disk").stream().filter(e -> e.path("body").path("path").asText().equals(device)).toList();
                assertEquals(1, added.size(), "the loop device is hot-plugged once (vm.add-disk): " + added);

                containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
                assertEquals("STOPPED", Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
                containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
                // the shim unplugs the disk when its container is deleted and, this being the sandbox's only
                // container, then ends with its VM (1.6: the task's end; 2.1: Delete then Shutdown); the unplug
                // while a pod runs on is shown by BlockRootfsIT.deletingTheOnlyUserOfARootfsDiskUnplugsItWhileThePodRuns
                containerd.ctr("container", "rm", id).requireSuccess();

                // containerd's garbage collector removes the snapshot from the proxy (Remove), which detaches it
                assertEquals(Map.of(), Poll.until(snap::activeDevices, Map.of(), Duration.ofSeconds(60)),
                        "containerd removed the container's snapshot");
                assertEquals("", Poll.until(() -> backingDir(device), "", Duration.ofSeconds(60)),
                        "the rootfs loop device is detached once its container is removed, before containerd stops");
            }
            // and containerd's stop leaves nothing holding it either
            assertEquals("", Poll.until(() -> backingDir(rootfs[0]), "", Duration.ofSeconds(30)),
                    "the rootfs loop device is detached");
            assertTrue(snap.activeDevices().isEmpty(), "no active snapshot is left: " + snap.names());
        }
        assertFalse(Files.exists(images), "the snapshotter removed its images");
    }

    /** @return the directory of the loop device's backing file, empty when the device is detached */
    private static String backingDir(String device) {
        Path sysfs = Path.of("/sys/block", Path.of(device).getFileName().toString(), "loop/backing_file");
        try {
            String file = Files.readString(sysfs).strip();
            Path parent = Path.of(file.replace(" (deleted)", "")).getParent();
            return parent == null ? file : parent.toString();
        } catch (IOException e) {
            return "";
        }
    }

    private static void assertNotMounted(Path mountinfo, String device, String majorMinor) throws IOException {
        for (String line : Files.readAllLines(mountinfo)) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            boolean byNumber = f.length > 2 && f[2].equals(majorMinor);
            boolean bySource = dash > 0 && f.length > dash + 2 && f[dash + 2].equals(device);
            assertFalse(byNumber || bySource, mountinfo + " shows the rootfs loop device " + device + " mounted: " + line);
        }
    }
}
