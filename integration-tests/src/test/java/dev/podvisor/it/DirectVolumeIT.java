package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kata's direct volumes end to end: {@code podvisor direct-volume add} records an ext4 volume on a loop device
 * the way a CSI driver calls {@code kata-runtime direct-volume add}; a container started by {@code ctr run}
 * through a private containerd binds the volume path as a plain bind mount, the shim hot-plugs the device and
 * the guest mounts it; {@code direct-volume stats} answers the guest's figures through the shim's management
 * socket. Bad records are refused by name, by the CLI and at create time, leaving nothing behind.
 */
class DirectVolumeIT {

    static final String RUNTIME = "io.containerd.kata.v2";

    @TempDir
    Path dir;
    Path image;
    String loop;
    Path configDir;
    Path config;
    Path volumePath;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void volume() throws Exception {
        before = Leftovers.take();
        image = dir.resolve("volume.img");
        sh("truncate -s 64M " + image + " && mkfs.ext4 -q -F " + image);
        loop = sh("losetup --find --show " + image).trim();
        markers.add(dir.toString());
        configDir = dir.resolve("config");
        config = TestbedConfig.write(configDir, "", 30);
        volumePath = Files.createDirectories(dir.resolve("pods/5e1d-pod/volumes/kubernetes.io~csi/pv-dv/mount"));
    }

    @AfterEach
    void detach() {
        Commands.run(List.of("losetup", "-d", loop));
        Leftovers.assertNothingNewSince(before, markers);
    }

    @Test
    void aVolumeAddedWithTheCliIsMountedOnlyInTheGuestAndReportsTheGuestsFigures() throws Exception {
        // createFilesystem on a device that holds ext4 already: the guest must not format it (the kata-agent 4.x
        // formats whenever the storage says create_filesystem), so the file put there first is still there
        sh("echo before > " + dir.resolve("before.txt") + " && debugfs -w -R 'write " + dir.resolve("before.txt")
                + " before' " + image);
        String mountInfo = "{\"volume-type\":\"directvol\",\"device\":\"" + loop
                + "\",\"fstype\":\"ext4\",\"metadata\":{\"createFilesystem\":\"true\"},\"options\":[\"bind\",\"rw\"]}";
        cli("add", "--volume-path", volumePath.toString(), "--mount-info", mountInfo).requireSuccess();
        Path record = recordDir();
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record.resolve("mountInfo.json"))));
        assertEquals(mountInfo, Files.readString(record.resolve("mountInfo.json")), "the record is written as given, like Kata's");

        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("dvol");
            markers.add(id);
            containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                    "--mount", "type=bind,src=" + volumePath + ",dst=/data,options=rbind:rw",
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done")
                    .requireSuccess();
            assertTrue(Files.isRegularFile(record.resolve(id)), "the sandbox-id file names the pod using the volume");

            CommandResult inside = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "w", id, "sh", "-c",
                    "cat /data/before && echo direct > /data/file && sync && grep ' /data ' /proc/mounts && stat -f -c '%b %S' /data");
            assertEquals(0, inside.exitCode(), inside.toString());
            assertTrue(inside.stdout().startsWith("before\n"), "the device was not formatted: " + inside);
            String mountLine = inside.stdout().lines().filter(l -> l.contains(" /data ")).findFirst().orElseThrow();
            assertTrue(mountLine.contains(" /data ext4 "), "ext4 in the guest: " + inside);
            assertFalse(mountLine.matches(".*[ ,]r?bind[ ,].*"), "bind/rbind never reach the guest mount: " + mountLine);
            String[] blocks = inside.stdout().lines().toList().getLast().trim().split(" ");
            long guestTotal = Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);

            String mountinfo = Files.readString(Path.of("/proc/self/mountinfo"));
            assertFalse(mountinfo.contains(" " + loop + " "), "the volume is never mounted on the host");
            try (var entries = Files.list(volumePath)) {
                assertTrue(entries.findAny().isEmpty(), "the volume path stays empty on the host");
            }

            CommandResult stats = cli("stats", "--volume-path", volumePath.toString());
            assertEquals(0, stats.exitCode(), stats.toString());
            JsonNode usage = new ObjectMapper().readTree(stats.stdout()).path("usage").path(0);
            assertEquals(1, usage.path("unit").asInt(), "bytes: " + stats.stdout());
            assertEquals(guestTotal, usage.path("total").asLong(), "the guest's total: " + stats.stdout());
            assertTrue(usage.path("used").asLong() > 0 && usage.path("available").asLong() > 0, stats.stdout());

            // the operator grows the device first; the kata-agent (4.x) refuses ResizeVolume whatever the volume,
            // and the refusal comes back to the CLI as is
            sh("truncate -s 128M " + image + " && losetup -c " + loop);
            CommandResult resize = cli("resize", "--volume-path", volumePath.toString(), "--size",
                    String.valueOf(128L << 20));
            assertEquals(1, resize.exitCode(), resize.toString());
            assertTrue(resize.stderr().contains("resize_volume is not implemented in kata-agent"), resize.toString());

            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            // ctr refuses to delete a task that has not stopped yet ("task must be stopped before deletion")
            assertEquals("STOPPED", dev.podvisor.it.support.Tasks.awaitStatus(containerd, id, "STOPPED", Duration.ofSeconds(60)));
            containerd.ctr(Duration.ofSeconds(60), "task", "delete", id).requireSuccess();
            containerd.ctr("container", "rm", id).requireSuccess();
        }
        CommandResult onDevice = Commands.run(List.of("debugfs", "-R", "cat /file", image.toString()),
                new byte[0], Duration.ofSeconds(30), Map.of());
        assertEquals("direct\n", onDevice.stdout(), "the container's data is on the image: " + onDevice);

        cli("remove", "--volume-path", volumePath.toString()).requireSuccess();
        assertFalse(Files.exists(record), "remove takes the whole record away");
    }

    @Test
    void badRecordsAreRefusedByNameByTheCliAndAtCreateTime() throws Exception {
        Map<String, String[]> bad = new LinkedHashMap<>();
        bad.put("{\"volume-type\":\"directvol\",\"fstype\":\"ext4\"}", new String[]{"key 'device': missing"});
        bad.put("{\"volume-type\":\"directvol\",\"device\":\"" + loop + "\",\"fstype\":\"ext4\",\"options\":\"rw\"}",
                new String[]{"key 'options': not an array of strings"});
        bad.put("{\"volume-type\":\"directvol\",\"device\":\"/dev/podvisor-it-absent\",\"fstype\":\"ext4\"}",
                new String[]{"key 'device': '/dev/podvisor-it-absent' does not exist"});
        bad.put("{\"volume_type\":\"directvol\",\"device\":\"" + loop + "\",\"fstype\":\"ext4\"}",
                new String[]{"key 'volume_type' is not valid"});

        for (var entry : bad.entrySet()) {
            CommandResult add = cli("add", "--volume-path", volumePath.toString(), "--mount-info", entry.getKey());
            assertEquals(1, add.exitCode(), add.toString());
            assertTrue(add.stderr().contains(entry.getValue()[0]), "the CLI names the key: " + add);
            assertFalse(Files.exists(recordDir()), "a refused add writes nothing: " + entry.getKey());
        }

        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            for (var entry : bad.entrySet()) {
                // a record written by hand, as a CSI driver with its own writer would
                Files.createDirectories(recordDir());
                Files.writeString(recordDir().resolve("mountInfo.json"), entry.getKey());
                String id = containerd.uniqueId("dvbad");
                markers.add(id);
                CommandResult run = containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                        "--mount", "type=bind,src=" + volumePath + ",dst=/data,options=rbind:rw",
                        BusyboxImage.NAME, id, "true");
                containerd.ctr(Duration.ofSeconds(60), "task", "delete", id);
                containerd.ctr("container", "rm", id);
                assertNotEquals(0, run.exitCode(), run.toString());
                assertTrue((run.stdout() + run.stderr()).contains(entry.getValue()[0]), "create names the key: " + run);
                assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(" " + loop + " "));
            }
        }
        cli("remove", "--volume-path", volumePath.toString()).requireSuccess();
    }

    private Path recordDir() {
        return TestbedConfig.directVolumesRoot(configDir).resolve(Base64.getUrlEncoder()
                .encodeToString(volumePath.toString().getBytes(StandardCharsets.UTF_8)));
    }

    private CommandResult cli(String... args) {
        List<String> command = new ArrayList<>(List.of(Installed.get().cli().toString(), "direct-volume"));
        command.addAll(List.of(args));
        command.addAll(List.of("--config", config.toString()));
        return Commands.run(command, new byte[0], Duration.ofSeconds(60), Map.of());
    }

    private static String sh(String script) {
        CommandResult result = Commands.run(List.of("sh", "-c", script));
        result.requireSuccess();
        return result.stdout();
    }
}
