package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.ContainerdVersion;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
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

            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id);
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
            containerd.ctr("container", "rm", id);
        }
        // closing the private containerd asserted that no loop device, mount or process of it is left
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
