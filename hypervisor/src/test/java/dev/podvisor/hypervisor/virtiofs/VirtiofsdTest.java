package dev.podvisor.hypervisor.virtiofs;

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

class VirtiofsdTest {
    @TempDir
    Path dir;

    private Path script(String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** Records its args, creates the --socket-path file, then becomes a long sleep (same pid). */
    private static final String STAND_IN = """
            printf '%s\\n' "$@" > "$(dirname "$0")/virtiofsd.args"
            echo $$ > "$(dirname "$0")/virtiofsd.pid"
            while [ $# -gt 0 ]; do case "$1" in --socket-path) sock="$2"; shift;; esac; shift; done
            : > "$sock"
            exec sleep 600
            """;

    private Virtiofsd.Options options(Path binary, Duration timeout) throws IOException {
        Path shared = Files.createDirectories(dir.resolve("ro"));
        var s = HypervisorSettings.kataDefaults(Path.of("/ch"), Path.of("/k"), Path.of("/i"), null, binary);
        var o = Virtiofsd.Options.of(s, dir.resolve("virtiofsd-kataShared.sock"), shared, dir.resolve("virtiofsd.log"));
        return new Virtiofsd.Options(o.binary(), o.socketPath(), o.sharedDir(), o.cache(), o.extraArgs(),
                o.outputFile(), timeout);
    }

    @Test
    void startsWithKataCommandLineAndStops() throws IOException {
        Path bin = script("virtiofsd", STAND_IN);
        Virtiofsd v = Virtiofsd.start(options(bin, Duration.ofSeconds(20)));
        try {
            List<String> expected = List.of(bin.toString(), "--socket-path",
                    dir.resolve("virtiofsd-kataShared.sock").toString(), "--shared-dir", dir.resolve("ro").toString(),
                    "--cache", "auto", "--thread-pool-size=1", "--announce-submounts");
            assertEquals(expected, v.argv());
            assertEquals(expected.subList(1, expected.size()), Files.readAllLines(dir.resolve("virtiofsd.args")));
            assertEquals(Long.parseLong(Files.readString(dir.resolve("virtiofsd.pid")).strip()), v.pid());
            assertTrue(Files.exists(v.socketPath()));
            assertTrue(v.isAlive());
        } finally {
            assertTrue(v.stop(Duration.ofSeconds(10)), "SIGTERM is enough");
        }
        assertFalse(v.isAlive());
        assertFalse(Files.exists(v.socketPath()));
    }

    @Test
    void sigkillWhenSigtermIsIgnored() throws IOException {
        Path bin = script("virtiofsd", "trap '' TERM\n" + STAND_IN);
        Virtiofsd v = Virtiofsd.start(options(bin, Duration.ofSeconds(20)));
        assertFalse(v.stop(Duration.ofMillis(200)), "had to be killed");
        assertFalse(v.isAlive());
        assertFalse(Files.exists(v.socketPath()));
    }

    @Test
    void killSendsSigkillWithoutSigtermFirst() throws IOException, InterruptedException {
        Path bin = script("virtiofsd", STAND_IN);
        Virtiofsd v = Virtiofsd.start(options(bin, Duration.ofSeconds(20)));
        v.kill();
        assertFalse(v.isAlive());
        assertEquals(128 + 9, v.process().waitFor(), "ended by SIGKILL (a SIGTERM would give 143)");
        assertFalse(Files.exists(v.socketPath()));
        v.kill(); // harmless again
    }

    @Test
    void missingBinaryIsNamedAndNothingIsLeft() throws IOException {
        Path bin = dir.resolve("no-such-virtiofsd");
        var o = options(bin, Duration.ofSeconds(1));
        var e = assertThrows(NoSuchFileException.class, () -> Virtiofsd.start(o));
        assertEquals(bin + ": virtiofsd binary ([hypervisor.clh] virtio_fs_daemon): does not exist", e.getMessage());
        assertFalse(Files.exists(o.socketPath()));
        assertFalse(Files.exists(o.outputFile()));
    }

    @Test
    void missingSharedDirIsNamed() throws IOException {
        Path bin = script("virtiofsd", STAND_IN);
        var o = options(bin, Duration.ofSeconds(1));
        var bad = new Virtiofsd.Options(o.binary(), o.socketPath(), dir.resolve("gone"), o.cache(), o.extraArgs(),
                o.outputFile(), o.startTimeout());
        var e = assertThrows(NoSuchFileException.class, () -> Virtiofsd.start(bad));
        assertEquals(dir.resolve("gone") + ": virtiofsd --shared-dir: not an existing directory", e.getMessage());
        assertFalse(Files.exists(o.outputFile()));
    }

    @Test
    void earlyExitIsReportedWithItsOutput() throws IOException {
        Path bin = script("virtiofsd", "echo 'error: unknown flag --bogus' >&2\nexit 3\n");
        var o = options(bin, Duration.ofSeconds(20));
        var e = assertThrows(IOException.class, () -> Virtiofsd.start(o));
        assertTrue(e.getMessage().startsWith("virtiofsd " + bin + " exited with status 3 before creating "),
                e.getMessage());
        assertTrue(e.getMessage().endsWith("output: error: unknown flag --bogus"), e.getMessage());
    }

    @Test
    void socketTimeoutKillsTheProcess() throws IOException {
        Files.copy(Path.of(Files.exists(Path.of("/usr/bin/sleep")) ? "/usr/bin/sleep" : "/bin/sleep"), dir.resolve("sleep"),
                java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
        Path bin = script("virtiofsd", "exec \"$(dirname \"$0\")/sleep\" 600\n"); // its command line names the temp dir
        var o = options(bin, Duration.ofMillis(300));
        var e = assertThrows(IOException.class, () -> Virtiofsd.start(o));
        assertTrue(e.getMessage().contains("did not create " + o.socketPath() + " within 300 ms"), e.getMessage());
        assertFalse(ProcessHandle.current().descendants().anyMatch(
                h -> h.info().commandLine().orElse("").contains(dir.toString())), "the stand-in was killed");
    }
}
