package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The storage planner's decisions through real containerd and the testbed, with real host conditions made
 * by the test: a memory emptyDir (a tmpfs with {@code size=} under kubelet's
 * {@code …/volumes/kubernetes.io~empty-dir/<name>}), a disk emptyDir, and an ext4 block volume on a loop
 * device. It checks where the data really lives. Needs root, containerd and runc (CI has them).
 */
class StorageIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final long EMPTYDIR_BYTES = 32L * 1024 * 1024;

    @TempDir
    Path dir;
    Path memory;
    Path disk;
    Path image;
    String loop;
    String rawLoop;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void hostConditions() throws Exception {
        before = Leftovers.take();
        Path volumes = dir.resolve("pods/0f7c-pod/volumes/kubernetes.io~empty-dir");
        memory = volumes.resolve("cache");
        disk = volumes.resolve("scratch");
        Files.createDirectories(memory);
        Files.createDirectories(disk);
        sh("mount -t tmpfs -o size=" + EMPTYDIR_BYTES + ",mode=0777 podvisor-it-emptydir " + memory);
        image = dir.resolve("volume.img");
        sh("truncate -s 64M " + image + " && mkfs.ext4 -q -F " + image);
        loop = sh("losetup --find --show " + image).trim();
        sh("truncate -s 8M " + dir.resolve("raw.img"));
        rawLoop = sh("losetup --find --show " + dir.resolve("raw.img")).trim();
        markers.add(dir.toString());
    }

    @AfterEach
    void undoHostConditions() {
        Commands.run(List.of("sh", "-c", "umount " + memory + "; losetup -d " + loop + "; losetup -d " + rawLoop));
        Leftovers.assertNothingNewSince(before, markers);
    }

    private static boolean isEmpty(Path directory) throws java.io.IOException {
        try (var entries = Files.list(directory)) {
            return entries.findAny().isEmpty();
        }
    }

    private static String sh(String script) {
        CommandResult result = Commands.run(List.of("sh", "-c", script));
        result.requireSuccess();
        return result.stdout();
    }

    @Test
    void eachVolumeLivesWhereThePlannerSays() throws Exception {
        Path configDir = dir.resolve("config");
        Path config = TestbedConfig.write(configDir, "", 30);
        // a CSI volume published at kubelet's target path, whose driver recorded the block device for Kata's
        // direct-volume path (kata-containers: docs/design/direct-blk-device-assignment.md)
        Path csiTarget = Files.createDirectories(dir.resolve("pods/0f7c-pod/volumes/kubernetes.io~csi/pv-ext4/mount"));
        Path record = TestbedConfig.directVolumesRoot(configDir).resolve(java.util.Base64.getUrlEncoder()
                .encodeToString(csiTarget.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        Files.createDirectories(record);
        Files.writeString(record.resolve("mountInfo.json"), "{\"volume-type\": \"directvol\", \"device\": \"" + loop
                + "\", \"fstype\": \"ext4\", \"options\": [\"bind\", \"rw\"]}");
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("storage");
            markers.add(id);
            containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                    "--mount", "type=bind,src=" + memory + ",dst=/cache,options=rbind:rw",
                    "--mount", "type=bind,src=" + disk + ",dst=/scratch,options=rbind:rw",
                    "--mount", "type=bind,src=" + csiTarget + ",dst=/blk,options=rbind:rw",
                    "--mount", "type=bind,src=" + rawLoop + ",dst=/dev/xvdb,options=rbind:ro",
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done")
                    .requireSuccess();

            CommandResult inside = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "w", id, "sh", "-c",
                    "echo memory > /cache/file && echo disk > /scratch/file && echo block > /blk/file && sync"
                            + " && df -k /cache | tail -n 1 && grep ' /blk ' /proc/mounts && test -b /dev/xvdb && echo raw-ok");
            assertEquals(0, inside.exitCode(), inside.toString());
            String[] df = inside.stdout().lines().toList().get(0).trim().split("\\s+");
            assertEquals(EMPTYDIR_BYTES / 1024, Long.parseLong(df[1]), "guest tmpfs has the host tmpfs's size: " + inside);
            assertTrue(inside.stdout().contains(" /blk ext4 "), "the block volume is ext4 in the guest: " + inside);
            assertTrue(inside.stdout().contains("raw-ok"), "a bound block device node stays a device node: " + inside);

            // while the container runs: the memory emptyDir's file is guest RAM only, the disk emptyDir's is on
            // the host, and the block device is mounted nowhere on the host
            assertFalse(Files.exists(memory.resolve("file")), "a memory emptyDir write never reaches the host");
            assertEquals("disk\n", Files.readString(disk.resolve("file")));
            String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
            assertFalse(mountinfo.contains(" " + loop + " "), "the block volume is never mounted on the host");
            assertFalse(mountinfo.contains(" " + rawLoop + " "), "the raw block device is never mounted on the host");
            assertTrue(isEmpty(csiTarget), "the CSI target directory stays empty on the host");

            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            assertEquals("STOPPED", Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
            containerd.ctr("container", "rm", id).requireSuccess();
        }
        assertFalse(Files.exists(memory.resolve("file")), "still not on the host after the pod is gone");
        // the block volume's data is on the device: read the image without mounting it
        CommandResult onDevice = Commands.run(List.of("debugfs", "-R", "cat /file", image.toString()),
                new byte[0], Duration.ofSeconds(30), Map.of());
        assertEquals("block\n", onDevice.stdout(), onDevice.toString());
    }

    @Test
    void anExtraVirtioFsDeviceServesItsSpecialVolumeWithItsOwnVirtiofsd() throws Exception {
        Path config = TestbedConfig.write(dir.resolve("config"),
                "extra_virtiofs = [\"fast:--cache=always --thread-pool-size=4\"]", 30);
        Path source = Files.createDirectories(dir.resolve("fast-source"));
        Files.writeString(source.resolve("file"), "served by the fast device\n");
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("fast");
            markers.add(id);
            containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                    "--annotation", "io.katacontainers.config.runtime.special_volumes=fast:/fastdata",
                    "--mount", "type=bind,src=" + source + ",dst=/fastdata,options=rbind:ro",
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done")
                    .requireSuccess();
            CommandResult read = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "r", id,
                    "sh", "-c", "cat /fastdata/file; touch /fastdata/new 2>/dev/null && echo writable || echo read-only");
            assertEquals("served by the fast device\nread-only\n", read.stdout(), read.toString());
            // the device has its own virtiofsd, with its own cache mode and thread pool
            List<String> virtiofsds = ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                    .filter(c -> c.contains("virtiofsd-fast.sock")).toList();
            assertEquals(1, virtiofsds.size(), virtiofsds.toString());
            assertTrue(virtiofsds.get(0).contains("--cache always") && virtiofsds.get(0).contains("--thread-pool-size=4"),
                    virtiofsds.get(0));
            assertFalse(Files.exists(source.resolve("new")));
            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            assertEquals("STOPPED", Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
            containerd.ctr("container", "rm", id).requireSuccess();
        }
    }
}
