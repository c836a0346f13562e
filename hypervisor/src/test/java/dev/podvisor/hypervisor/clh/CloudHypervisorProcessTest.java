package dev.podvisor.hypervisor.clh;

import dev.podvisor.hypervisor.HypervisorSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CloudHypervisorProcessTest {
    @TempDir
    Path dir;

    private Path script(String body) throws IOException {
        Path p = dir.resolve("cloud-hypervisor");
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** A shell-script cloud-hypervisor that execs a JVM running {@link FakeCloudHypervisorMain}. */
    private Path javaStandIn() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return script("exec '" + java + "' -Xshare:auto -XX:TieredStopAtLevel=1 -Xmx48m -cp '"
                + System.getProperty("java.class.path") + "' " + FakeCloudHypervisorMain.class.getName() + " \"$@\"\n");
    }

    private CloudHypervisorProcess.Options options(Path bin, boolean debug, boolean seccomp, Path logFile,
                                                   Duration startTimeout) {
        var s = new HypervisorSettings(bin, Path.of("/k"), Path.of("/i"), null, "", 1, 256, Path.of("/v"), null,
                null, 1024, debug, seccomp);
        var o = CloudHypervisorProcess.Options.forSandbox(s, dir);
        return new CloudHypervisorProcess.Options(o.binary(), o.apiSocket(), o.outputFile(), logFile, o.debug(),
                o.seccomp(), o.extraArgs(), startTimeout, o.apiTimeout());
    }

    @Test
    void launchesWaitsForPingAndShutsDownThroughTheApi() throws IOException {
        Path bin = javaStandIn();
        var o = options(bin, true, false, dir.resolve("vmm.log"), Duration.ofSeconds(60));
        CloudHypervisorProcess ch = CloudHypervisorProcess.start(o);
        try {
            List<String> expected = List.of(bin.toString(), "--api-socket", dir.resolve("clh-api.sock").toString(),
                    "-v", "--seccomp", "false", "--log-file", dir.resolve("vmm.log").toString());
            assertEquals(expected, ch.argv());
            assertEquals(expected.subList(1, expected.size()), Files.readAllLines(dir.resolve("clh.args")));
            assertEquals("51.1.0", ch.version().version());
            assertEquals(ch.pid(), ch.version().pid(), "setsid and exec keep the pid");
            assertEquals(ch.pid(), ch.client().ping().pid());
            assertTrue(ch.isAlive());
        } finally {
            assertTrue(ch.shutdown(Duration.ofSeconds(30)), "exits on vmm.shutdown");
        }
        assertFalse(ch.isAlive());
        assertFalse(Files.exists(dir.resolve("clh-api.sock")));
        assertTrue(ch.shutdown(Duration.ofMillis(10)), "a second shutdown is harmless");
    }

    @Test
    void anAnsweredShutdownKillsAVmmThatLingersInsteadOfWaitingForIt() throws IOException {
        var o = options(javaStandIn(), false, true, null, Duration.ofSeconds(60));
        o = new CloudHypervisorProcess.Options(o.binary(), o.apiSocket(), o.outputFile(), o.logFile(), o.debug(),
                o.seccomp(), List.of("--linger"), o.startTimeout(), o.apiTimeout());
        CloudHypervisorProcess ch = CloudHypervisorProcess.start(o);
        try {
            // the fake answers vmm.shutdown and then never exits: shutdown returns only because it killed it
            assertTrue(ch.shutdown(Duration.ofMinutes(10)), "vmm.shutdown answered: a clean shutdown");
            assertFalse(ch.isAlive());
            assertFalse(Files.exists(o.apiSocket()));
            assertTrue(ch.shutdown(Duration.ofSeconds(1)), "a second shutdown is harmless");
        } finally {
            ch.shutdown(Duration.ZERO);
        }
    }

    @Test
    void defaultArgvIsKatasMinimalOne() {
        var o = options(Path.of("/usr/bin/cloud-hypervisor"), false, true, null, Duration.ofSeconds(1));
        assertEquals(List.of("/usr/bin/cloud-hypervisor", "--api-socket", dir.resolve("clh-api.sock").toString()),
                o.argv());
    }

    @Test
    void missingBinaryIsNamedAndNothingIsLeft() {
        Path bin = dir.resolve("no-such-cloud-hypervisor");
        var o = options(bin, false, true, null, Duration.ofSeconds(1));
        var e = assertThrows(NoSuchFileException.class, () -> CloudHypervisorProcess.start(o));
        assertEquals(bin + ": cloud-hypervisor binary ([hypervisor.clh] path): does not exist", e.getMessage());
        assertFalse(Files.exists(o.outputFile()));
        assertFalse(Files.exists(o.apiSocket()));
    }

    @Test
    void earlyExitIsReportedWithItsOutput() throws IOException {
        Path bin = script("echo 'Error: unknown argument' >&2\nexit 2\n");
        var o = options(bin, false, true, null, Duration.ofSeconds(20));
        var e = assertThrows(IOException.class, () -> CloudHypervisorProcess.start(o));
        assertTrue(e.getMessage().startsWith("cloud-hypervisor " + bin + " exited with status 2 before its API socket"),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("output: Error: unknown argument"), e.getMessage());
    }

    @Test
    void silentVmmIsKilledAfterTheStartTimeout() throws IOException {
        Files.copy(Path.of(Files.exists(Path.of("/usr/bin/sleep")) ? "/usr/bin/sleep" : "/bin/sleep"), dir.resolve("sleep"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Path bin = script("exec \"$(dirname \"$0\")/sleep\" 600\n"); // its command line names the temp dir
        var o = options(bin, false, true, null, Duration.ofMillis(300));
        var e = assertThrows(IOException.class, () -> CloudHypervisorProcess.start(o));
        assertTrue(e.getMessage().contains("did not answer vmm.ping within 300 ms"), e.getMessage());
        assertFalse(ProcessHandle.current().descendants().anyMatch(
                h -> h.info().commandLine().orElse("").contains(dir.toString())), "the stand-in was killed");
        assertFalse(Files.exists(o.apiSocket()));
    }
}
