package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code emptydir_mode = "block-plain"} end to end through real containerd and the testbed: a disk emptyDir
 * becomes a sparse {@code disk.img} inside the emptyDir, the size of the host filesystem, attached as
 * virtio-blk and formatted ext4 in the guest (Kata Go's block emptyDir). What the container writes lands in the
 * image, so the blocks count against the emptyDir as kubelet measures it; the host never mounts the image.
 */
class BlockEmptyDirIT {

    static final String RUNTIME = "io.containerd.kata.v2";

    @TempDir
    Path dir;
    Path scratch;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void emptyDir() throws Exception {
        before = Leftovers.take();
        scratch = Files.createDirectories(dir.resolve("pods/77aa-pod/volumes/kubernetes.io~empty-dir/scratch"));
        markers.add(dir.toString());
    }

    @AfterEach
    void nothingLeft() {
        Leftovers.assertNothingNewSince(before, markers);
    }

    @Test
    void aDiskEmptyDirIsASparseImageFormattedInTheGuest() throws Exception {
        Path configDir = dir.resolve("config");
        Path config = TestbedConfig.write(configDir, "", 30);
        Files.writeString(config, "\n[runtime]\nemptydir_mode = \"block-plain\"\n", StandardOpenOption.APPEND);
        Path image = scratch.resolve("disk.img");
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("bplain");
            markers.add(id);
            containerd.ctr(Duration.ofSeconds(180), "run", "-d", "--runtime", RUNTIME,
                    "--mount", "type=bind,src=" + scratch + ",dst=/scratch,options=rbind:rw",
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done")
                    .requireSuccess();

            assertTrue(Files.isRegularFile(image), "disk.img is made inside the emptyDir");
            long hostFsBytes = Files.getFileStore(scratch).getTotalSpace();
            assertEquals(hostFsBytes, Files.size(image), "the image has the host filesystem's size");

            CommandResult inside = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "w", id, "sh", "-c",
                    "dd if=/dev/zero of=/scratch/blob bs=1M count=8 2>/dev/null && echo plain > /scratch/file && sync"
                            + " && grep ' /scratch ' /proc/mounts");
            assertEquals(0, inside.exitCode(), inside.toString());
            assertTrue(inside.stdout().contains(" /scratch ext4 "), "ext4 made in the guest: " + inside);

            CommandResult du = Commands.run(List.of("du", "--block-size=1", image.toString())).requireSuccess();
            long allocated = Long.parseLong(du.stdout().trim().split("\\s+")[0]); // what kubelet's du-based accounting sees
            assertTrue(allocated >= 8L * 1024 * 1024, "the container's 8 MiB count against the emptyDir: " + allocated);
            assertTrue(allocated < Files.size(image) / 2, "the image stays sparse: " + allocated);
            try (var entries = Files.list(scratch)) {
                assertEquals(List.of(image), entries.toList(), "the files live in the image, not in the host directory");
            }
            String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
            assertFalse(mountinfo.contains(image.toString()), "the image is never mounted on the host");

            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            // ctr refuses to delete a task that has not stopped yet ("task must be stopped before deletion")
            assertEquals("STOPPED", dev.podvisor.it.support.Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
            containerd.ctr("container", "rm", id).requireSuccess();
            // the pod's only container is gone, so is the sandbox: its pod-scoped disk went with it
            assertEquals("", dev.podvisor.it.support.Poll.until(() -> Commands.run(List.of("losetup", "-j",
                    image.toString())).stdout().strip(), "", Duration.ofSeconds(30)), "no loop device left on the image");
        }
        CommandResult onImage = Commands.run(List.of("debugfs", "-R", "cat /file", image.toString()),
                new byte[0], Duration.ofSeconds(30), Map.of());
        assertEquals("plain\n", onImage.stdout(), "the data is in the image: " + onImage);
    }
}
