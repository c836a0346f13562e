package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code podvisor plan --json} on a bundle with one mount of each kind, on the live host, with host conditions
 * the test makes (a sized tmpfs emptyDir, a disk emptyDir, a loop block device, a direct volume record).
 * Needs root (mounts, loop devices).
 */
class PlanCliIT {

    @TempDir
    Path dir;
    String loop;
    Path memory;

    @AfterEach
    void undo() {
        Commands.run(List.of("sh", "-c", (memory == null ? "" : "umount " + memory + "; ")
                + (loop == null ? "true" : "losetup -d " + loop)));
    }

    @Test
    void printsTheExpectedKindForEachMount() throws Exception {
        Path volumes = dir.resolve("pods/uid/volumes/kubernetes.io~empty-dir");
        memory = volumes.resolve("cache");
        Path scratch = volumes.resolve("scratch");
        Files.createDirectories(memory);
        Files.createDirectories(scratch);
        Commands.run(List.of("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", memory.toString())).requireSuccess();
        Path image = dir.resolve("disk.img");
        Commands.run(List.of("truncate", "-s", "16M", image.toString())).requireSuccess();
        // a direct volume's image file must hold its declared file system (issue 8, case 8)
        Commands.run(List.of("mkfs.ext4", "-q", "-F", image.toString())).requireSuccess();
        loop = Commands.run(List.of("losetup", "--find", "--show", image.toString())).requireSuccess().stdout().trim();
        Path hostPath = Files.createDirectories(dir.resolve("host-path"));
        Path csiTarget = Files.createDirectories(dir.resolve("pods/uid/volumes/kubernetes.io~csi/pv1/mount"));
        Path directVolumes = dir.resolve("direct-volumes");
        Path record = directVolumes.resolve(Base64.getUrlEncoder().encodeToString(csiTarget.toString().getBytes(StandardCharsets.UTF_8)));
        Files.createDirectories(record);
        Files.writeString(record.resolve("mountInfo.json"),
                "{\"volume-type\":\"directvol\",\"device\":\"" + image + "\",\"fstype\":\"ext4\",\"options\":[\"bind\",\"rw\"]}");

        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                 "mounts": [
                  {"destination": "/proc", "type": "proc", "source": "proc"},
                  {"destination": "/dev/shm", "type": "bind", "source": "/dev/shm", "options": ["rbind"]},
                  {"destination": "/cache", "type": "bind", "source": "%s", "options": ["rbind", "rw"]},
                  {"destination": "/scratch", "type": "bind", "source": "%s", "options": ["rbind", "rw"]},
                  {"destination": "/data", "type": "bind", "source": "%s", "options": ["rbind", "rw"]},
                  {"destination": "/dev/xvdb", "type": "bind", "source": "%s", "options": ["rbind", "rw"]},
                  {"destination": "/host", "type": "bind", "source": "%s", "options": ["rbind", "ro"]}]}
                """.formatted(memory, scratch, csiTarget, loop, hostPath));
        Path config = dir.resolve("configuration.toml");
        Files.writeString(config, "[podvisor]\ndirect_volumes_root = \"" + directVolumes + "\"\n");

        CommandResult result = Commands.run(List.of(Installed.get().cli().toString(), "plan", "--json", "--config",
                        config.toString(), "--rootfs", "overlay:overlay:lowerdir=/l,upperdir=/u,workdir=/w", bundle.toString()),
                new byte[0], Duration.ofSeconds(60), Map.of());
        assertEquals(0, result.exitCode(), result.toString());
        JsonNode plan = new ObjectMapper().readTree(result.stdout());
        assertEquals("virtio-fs", plan.path("rootfs").path("kind").asText());
        assertTrue(plan.path("rootfs").path("hostMount").asBoolean());
        Map<String, JsonNode> byDestination = new HashMap<>();
        plan.path("mounts").forEach(m -> byDestination.put(m.path("destination").asText(), m));
        assertEquals("passthrough", byDestination.get("/proc").path("kind").asText());
        assertEquals("guest-tmpfs", byDestination.get("/dev/shm").path("kind").asText());
        assertEquals("guest-tmpfs", byDestination.get("/cache").path("kind").asText());
        assertEquals(16L * 1024 * 1024, byDestination.get("/cache").path("sizeBytes").asLong());
        assertEquals("emptydir-tmpfs", byDestination.get("/cache").path("rule").asText());
        assertEquals("virtio-fs", byDestination.get("/scratch").path("kind").asText());
        assertEquals("emptydir-disk", byDestination.get("/scratch").path("rule").asText());
        assertEquals("virtio-blk", byDestination.get("/data").path("kind").asText());
        assertEquals("direct-volume", byDestination.get("/data").path("rule").asText());
        assertEquals("virtio-blk", byDestination.get("/dev/xvdb").path("kind").asText());
        assertEquals("host-block-device", byDestination.get("/dev/xvdb").path("rule").asText());
        assertEquals("virtio-fs", byDestination.get("/host").path("kind").asText());
        assertTrue(byDestination.get("/host").path("readOnly").asBoolean());
        for (JsonNode mount : plan.path("mounts")) {
            assertTrue(!mount.path("reason").asText().isEmpty(), "every decision says why: " + mount);
        }
    }
}
