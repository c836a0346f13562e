package dev.podvisor.testbed.ch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * After {@code package}: the launchers find the packaged jars by themselves (no
 * {@code PODVISOR_TESTBED_CLASSPATH}) in the build tree, through a symlink, and in an installed layout where
 * {@code bin/} and {@code lib/} are siblings.
 */
class LaunchersIT {
    @TempDir
    Path tmp;

    private static String run(Path launcher, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder();
        pb.command().add(launcher.toString());
        pb.command().addAll(List.of(args));
        pb.environment().remove("PODVISOR_TESTBED_CLASSPATH");
        pb.environment().put("PODVISOR_JAVA", StandIns.java());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        return new String(out, StandardCharsets.UTF_8).trim();
    }

    @Test
    void buildTreeAndSymlink() throws Exception {
        assertEquals("cloud-hypervisor v53.0.0", run(StandIns.bin("cloud-hypervisor"), "--version"));
        assertTrue(run(StandIns.bin("virtiofsd"), "--version").startsWith("virtiofsd 1."));
        Path link = Files.createSymbolicLink(tmp.resolve("cloud-hypervisor"), StandIns.bin("cloud-hypervisor"));
        assertEquals("cloud-hypervisor v53.0.0", run(link, "--version"));
        Files.delete(link);
    }

    @Test
    void installedLayoutWithSiblingLib() throws Exception {
        Path target = StandIns.bin("cloud-hypervisor").getParent().getParent().resolve("target");
        Path bin = Files.createDirectories(tmp.resolve("inst/bin"));
        Path lib = Files.createDirectories(tmp.resolve("inst/lib"));
        Files.copy(StandIns.bin("cloud-hypervisor"), bin.resolve("cloud-hypervisor"), StandardCopyOption.COPY_ATTRIBUTES);
        try (var jars = Files.list(target.resolve("lib"))) {
            for (Path j : jars.toList()) {
                Files.copy(j, lib.resolve(j.getFileName()));
            }
        }
        try (var jars = Files.list(target)) {
            for (Path j : jars.filter(p -> p.getFileName().toString().matches("podvisor-integration-tests-.*\\.jar")).toList()) {
                Files.copy(j, lib.resolve(j.getFileName()));
            }
        }
        assertEquals("cloud-hypervisor v53.0.0", run(bin.resolve("cloud-hypervisor"), "--version"));
        // and it serves: start, ping through the socket, shut down
        Path vm = Files.createDirectory(tmp.resolve("vm"));
        Path api = vm.resolve("api.sock");
        Process p = new ProcessBuilder(bin.resolve("cloud-hypervisor").toString(), "--api-socket", api.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("out").toFile()).start();
        try {
            StandIns.await("API socket", () -> StandIns.accepts(api), p, Duration.ofSeconds(60));
            try (ApiClient c = new ApiClient(api)) {
                assertEquals(200, c.call("GET", "vmm.ping", null).status());
                assertEquals(204, c.call("PUT", "vmm.shutdown", null).status());
            }
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new AssertionError(Files.readString(tmp.resolve("out")), e);
        } finally {
            StandIns.kill(p);
        }
    }
}
