package dev.podvisor.it;

import dev.podvisor.it.support.CommandResult;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.StringJoiner;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile pod spec through real containerd (issue 8, cases 5-9), with every hypervisor annotation enabled
 * ({@code enable_annotations = [".*"]}) so that only the new checks stand in the way: each {@code ctr run} fails
 * with an error naming the annotation and the offending value, and nothing is left (no process, mount, loop
 * device, socket, state or share directory). Each test has its own containerd. Needs root, containerd and runc.
 */
class HostileInputIT extends ContainerdPerTest {

    static final String H = "io.katacontainers.config.hypervisor.";

    @Override
    String clhOverrides() {
        return "enable_annotations = [\".*\"]";
    }

    /** {@code ctr run --rm} with the annotations and extra ctr flags; it must fail; returns its stderr. */
    private String refused(String stem, List<String> flags) {
        String id = id(stem);
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME));
        args.addAll(flags);
        args.addAll(List.of(IMAGE, id, "echo", "never"));
        CommandResult result = containerd.ctr(Duration.ofSeconds(120), args.toArray(String[]::new));
        containerd.ctr("container", "rm", id);
        assertFalse(result.ok(), result.toString());
        assertFalse(result.stdout().contains("never"), result.toString());
        return result.stderr();
    }

    private String refusedAnnotation(String stem, String key, String value) {
        return refused(stem, List.of("--annotation", key + "=" + value));
    }

    @Test
    void virtiofsdArgumentsTheShimOwnsAreRefused() {
        String message = refusedAnnotation("vfsargs", H + "virtio_fs_extra_args", "[\"--shared-dir=/\"]");
        assertTrue(message.contains("annotation " + H + "virtio_fs_extra_args: virtiofsd argument '--shared-dir=/'"
                + " is not allowed"), message);
        String extra = refusedAnnotation("vfsextra", H + "extra_virtiofs", "evil:-o source=/etc");
        assertTrue(extra.contains("virtiofsd argument '-o source=/etc' is not allowed"), extra);
    }

    @Test
    void extraVirtiofsDevicesAreBounded() {
        StringJoiner devices = new StringJoiner(";");
        for (int i = 0; i < 9; i++) {
            devices.add("dev" + i + ":--thread-pool-size=1");
        }
        String message = refusedAnnotation("manyfs", H + "extra_virtiofs", devices.toString());
        assertTrue(message.contains("too many extra virtio-fs devices") && message.contains("declare 9, at most 8")
                && message.contains("max_extra_virtiofs"), message);
    }

    @Test
    void sandboxBindMountsNeverGetReadWriteFromAnAnnotation() {
        String message = refusedAnnotation("sbm", "io.katacontainers.config.runtime.sandbox_bind_mounts", "/etc@rw");
        assertTrue(message.contains("entry '/etc@rw': @rw is refused from an annotation"), message);
    }

    @Test
    void bootFilesAndKernelParamsAreChecked() {
        String shadow = refusedAnnotation("shadow", H + "kernel", "/etc/shadow");
        assertTrue(shadow.contains("annotation " + H + "kernel = \"/etc/shadow\": path not allowed"), shadow);
        String params = refusedAnnotation("params", H + "kernel_params", "a=" + "x".repeat(100_000));
        assertTrue(params.contains("kernel_params is 100002 bytes, at most 2048"), params);
    }

    @Test
    void aDirectVolumeOverAPlainFileIsNeverFormatted() throws IOException {
        Path data = Files.writeString(dir.resolve("precious.db"), "someone's data, not a file system\n".repeat(100));
        Path volume = Files.createDirectories(dir.resolve("pods/p1/volumes/kubernetes.io~csi/pv-1/mount"));
        Path record = TestbedConfig.directVolumesRoot(dir.resolve("config"))
                .resolve(Base64.getUrlEncoder().encodeToString(volume.toString().getBytes(StandardCharsets.UTF_8)));
        Files.createDirectories(record);
        Files.writeString(record.resolve("mountInfo.json"), "{\"volume-type\": \"directvol\", \"device\": \"" + data
                + "\", \"fstype\": \"ext4\", \"options\": [], \"metadata\": {\"createFilesystem\": \"true\"}}");
        String before = Files.readString(data);
        try {
            String message = refused("dirvol", List.of("--mount", "type=bind,src=" + volume + ",dst=/data,options=rbind:rw"));
            assertTrue(message.contains("image file '" + data + "' does not hold a ext4 file system"), message);
            assertTrue(Files.readString(data).equals(before), "the file is untouched");
        } finally {
            Files.deleteIfExists(record.resolve("mountInfo.json"));
            Files.deleteIfExists(record);
        }
    }
}
