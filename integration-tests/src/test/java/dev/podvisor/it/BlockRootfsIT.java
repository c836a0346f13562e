package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.ContainerdVersion;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.Poll;
import dev.podvisor.it.support.Tasks;
import dev.podvisor.it.support.PrivateContainerd;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A block rootfs from a real snapshotter: containerd 2.x's blockfile snapshotter (each snapshot an ext4 image
 * file, handed to the runtime as an {@code ext4} mount with the {@code loop} option, as devmapper hands a
 * device) unpacks busybox and {@code ctr run} starts it on the testbed. The shim attaches the image file as
 * virtio-blk and the guest mounts it as the rootfs: the container reads its image's files and writes to its
 * rootfs, the host never mounts the snapshot, and the data is in the snapshot file afterwards. Always runs on
 * containerd 2.1 (1.6 has no blockfile snapshotter).
 */
class BlockRootfsIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String SNAPSHOTTER = "blockfile";
    static final ObjectMapper JSON = new ObjectMapper();

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
    void aBlockfileSnapshotIsTheGuestsRootfsAndNeverMountedOnTheHost() throws Exception {
        Path config = TestbedConfig.write(dir.resolve("config"), "", 30);
        try (PrivateContainerd containerd = PrivateContainerd.builder().containerd(ContainerdVersion.V2_1)
                .runtimeConfig(config).blockfile(true).start()) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("blkroot");
            markers.add(id);
            Path snapshots = containerd.dir().resolve("root/io.containerd.snapshotter.v1.blockfile/snapshots");
            // by path: containerd 2.x looks io.containerd.kata.v2 up on PATH, which may hold another install
            containerd.ctr(Duration.ofSeconds(180), "run", "-d", "--snapshotter", SNAPSHOTTER, "--runtime",
                    Installed.get().shimLauncher().toString(),
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done")
                    .requireSuccess();

            CommandResult inside = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "w", id, "sh", "-c",
                    "test -x /bin/busybox && echo written > /rootfs-file && sync && grep ' / ' /proc/mounts");
            assertEquals(0, inside.exitCode(), inside.toString());
            assertTrue(inside.stdout().contains(" ext4 "), "the rootfs is the ext4 snapshot in the guest: " + inside);

            String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
            assertFalse(mountinfo.contains(snapshots.toString()), "no snapshot is mounted on the host");
            for (Path snapshot : files(snapshots)) {
                for (String loop : loopsOf(snapshot)) {
                    assertFalse(mountinfo.contains(" " + loop + " "), "the loop device of " + snapshot
                            + " is never mounted on the host: " + loop);
                }
            }

            long shim = Long.parseLong(Files.readString(containerd.bundle("default", id).resolve("shim.pid")).strip());
            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            // ctr refuses to delete a task that has not stopped yet ("task must be stopped before deletion")
            assertEquals("STOPPED", Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
            // containerd 2.1 sends Shutdown after Delete (no sandbox API): the shim of its only container ends
            assertTrue(Poll.until(() -> ProcessHandle.of(shim).map(ProcessHandle::isAlive).orElse(false), false,
                    Duration.ofSeconds(30)) == Boolean.FALSE, "the shim " + shim + " ends after the delete of its only task");
            for (Path snapshot : files(snapshots)) {
                assertEquals(List.of(), loopsOf(snapshot), "no loop device is left on " + snapshot);
            }
            // the container's write is in its snapshot file, read without mounting it
            String found = null;
            for (Path snapshot : files(snapshots)) {
                CommandResult cat = Commands.run(List.of("debugfs", "-R", "cat /rootfs-file", snapshot.toString()),
                        new byte[0], Duration.ofSeconds(30), Map.of());
                if (cat.stdout().equals("written\n")) {
                    found = snapshot.toString();
                }
            }
            assertTrue(found != null, "the container's write is in its snapshot file");
            containerd.ctr("container", "rm", id).requireSuccess();
        }
        // closing the private containerd asserted that no loop device, mount or process of it is left
    }

    /**
     * A pod of two containers (a sandbox on the default snapshotter, an app on blockfile): deleting the app
     * ({@code ctr task delete} + {@code ctr container rm}) unplugs its rootfs disk at once
     * ({@code vm.remove-device} after the agent's RemoveContainer), the guest forgets it and the loop device
     * standing for it in the testbed is detached, while the pod's shim and VM run on.
     */
    @Test
    void deletingTheOnlyUserOfARootfsDiskUnplugsItWhileThePodRuns() throws Exception {
        Path configDir = dir.resolve("config");
        Path config = TestbedConfig.write(configDir, "", 30);
        try (PrivateContainerd containerd = PrivateContainerd.builder().containerd(ContainerdVersion.V2_1)
                .runtimeConfig(config).blockfile(true).start()) {
            BusyboxImage.importInto(containerd, "default");
            String pod = containerd.uniqueId("blkpod");
            String app = containerd.uniqueId("blkapp");
            markers.add(pod);
            markers.add(app);
            Path snapshots = containerd.dir().resolve("root/io.containerd.snapshotter.v1.blockfile/snapshots");
            String loop = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
            String shim = Installed.get().shimLauncher().toString();
            containerd.ctr(Duration.ofSeconds(180), "run", "-d", "--runtime", shim,
                    "--annotation", "io.kubernetes.cri.container-type=sandbox",
                    "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                    BusyboxImage.NAME, pod, "sh", "-c", loop).requireSuccess();
            containerd.ctr(Duration.ofSeconds(180), "run", "-d", "--snapshotter", SNAPSHOTTER, "--runtime", shim,
                    "--annotation", "io.kubernetes.cri.container-type=container",
                    "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                    BusyboxImage.NAME, app, "sh", "-c", loop).requireSuccess();
            Path guestLog = configDir.resolve("state").resolve(pod).resolve("testbed.jsonl");
            JsonNode added = events(guestLog).stream().filter(e -> e.path("kind").asText().equals("control")
                    && e.path("event").asText().equals("add-disk")
                    && e.path("path").asText().startsWith(snapshots.toString())).findFirst().orElseThrow();
            String diskId = added.path("id").asText();
            Path snapshot = Path.of(added.path("path").asText());
            assertEquals(1, loopsOf(snapshot).size(), "the guest's stand-in block device for the app's rootfs disk");
            long podShim = Long.parseLong(Files.readString(containerd.bundle("default", pod).resolve("shim.pid")).strip());

            containerd.ctr("task", "kill", "-s", "SIGTERM", app).requireSuccess();
            assertEquals("STOPPED", Tasks.awaitStatus(containerd, app, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", app).requireSuccess();
            containerd.ctr("container", "rm", app).requireSuccess();

            List<JsonNode> log = events(guestLog);
            assertTrue(log.stream().anyMatch(e -> e.path("kind").asText().equals("api-request")
                    && e.path("path").asText().endsWith("vm.remove-device")
                    && e.path("body").path("id").asText().equals(diskId)), "vm.remove-device " + diskId + " was called");
            assertEquals(Boolean.TRUE, Poll.until(() -> events(guestLog).stream().anyMatch(e -> e.path("kind").asText()
                    .equals("control") && e.path("event").asText().equals("remove-device")
                    && e.path("id").asText().equals(diskId) && e.path("known").asBoolean()), true, Duration.ofSeconds(10)),
                    "the guest saw disk " + diskId + " go");
            assertEquals(List.of(), loopsOf(snapshot), "the unplugged disk's loop device is detached");
            assertTrue(ProcessHandle.of(podShim).map(ProcessHandle::isAlive).orElse(false), "the pod's shim runs on");
            CommandResult still = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "p", pod, "true");
            assertEquals(0, still.exitCode(), "the pod still runs: " + still);

            containerd.ctr("task", "kill", "-s", "SIGTERM", pod).requireSuccess();
            assertEquals("STOPPED", Tasks.awaitStatus(containerd, pod, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", pod).requireSuccess();
            containerd.ctr("container", "rm", pod).requireSuccess();
        }
    }

    private static List<JsonNode> events(Path file) {
        try {
            List<JsonNode> lines = new ArrayList<>();
            for (String line : Files.readAllLines(file)) {
                lines.add(JSON.readTree(line));
            }
            return lines;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<Path> files(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).toList();
        }
    }

    private static List<String> loopsOf(Path file) {
        CommandResult r = Commands.run(List.of("losetup", "-n", "-O", "NAME", "-j", file.toString()));
        return r.stdout().lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    }
}
