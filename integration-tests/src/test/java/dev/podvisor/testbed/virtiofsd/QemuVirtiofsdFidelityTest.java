package dev.podvisor.testbed.virtiofsd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stand-in's C-style command line ({@link QemuVirtiofsdOptions}) against the real daemon it stands in for,
 * Debian's {@code /usr/lib/qemu/virtiofsd} (package {@code qemu-system-common}, installed by scripts/setup.sh):
 * every command line the real daemon refuses at start is refused by the stand-in with the same first line and
 * exit status; the command lines it accepts parse to the options it would use.
 */
class QemuVirtiofsdFidelityTest {

    static final Path REAL = Path.of("/usr/lib/qemu/virtiofsd");

    @TempDir
    Path dir;

    /** The real daemon's exit status and first line of stderr, for a command line it refuses at once. */
    private static String[] real(List<String> args) throws Exception {
        List<String> command = new ArrayList<>(List.of(REAL.toString()));
        command.addAll(args);
        Process p = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the real daemon refuses " + args + " at once");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            return new String[] {String.valueOf(p.exitValue()), err.lines().findFirst().orElse("")};
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void refusesWhatTheRealDaemonRefusesWithItsWords() throws Exception {
        Path share = Files.createDirectories(dir.resolve("share"));
        String sock = "--socket-path=" + dir.resolve("s.sock");
        String source = "source=" + share;
        List<List<String>> cases = List.of(
                List.of(sock, "-o", source, "-o", "cache=never"),
                List.of(sock, "-o", source, "-o", "cache=metadata"),
                List.of(sock, "-o", source, "--bogus"),
                List.of(sock, "-o", source, "--thread-pool-size=x"),
                List.of(sock, "-o", source, "-o", "sandbox=none"),
                List.of(sock, "-o", source, "extra"),
                List.of("--socket-path", dir.resolve("s.sock").toString(), "-o", source),
                List.of("-o", source),
                List.of(sock, "-o", "source=" + dir.resolve("missing")),
                List.of(sock, "-o", source, "--bogus", "-o", "cache=never,xattr,foo", "--fd"),
                List.of("-o", source, "--bogus"),
                List.of("-o", "source=" + dir.resolve("missing"), "--bogus"),
                List.of(sock, "-o", source, "--bogus", "extra"),
                List.of("--fd=x", "--bogus"));
        for (List<String> args : cases) {
            String[] want = real(args);
            VirtiofsdOptions.UsageException e = assertThrows(VirtiofsdOptions.UsageException.class,
                    () -> QemuVirtiofsdOptions.parse(args), args.toString());
            assertEquals(want[0] + " " + want[1], e.exitCode() + " " + e.getMessage().lines().findFirst().orElse(""),
                    args.toString());
        }
        assertTrue(!Files.exists(dir.resolve("s.sock")), "the real daemon made no socket for a refused command line");
    }

    @Test
    void parsesTheCommandLineTheShimBuilds() throws Exception {
        Path share = Files.createDirectories(dir.resolve("share"));
        VirtiofsdOptions o = QemuVirtiofsdOptions.parse(List.of("--socket-path=" + dir.resolve("db.sock"), "-o",
                "source=" + share, "-o", "cache=none", "-o", "timeout=86400", "--thread-pool-size=4", "-o",
                "announce_submounts,no_posix_lock", "-f", "--syslog"));
        assertEquals(share, o.sharedDir());
        assertEquals(dir.resolve("db.sock"), o.socketPath());
        assertEquals("none", o.cache());
        assertEquals(4, o.threadPoolSize());
        assertTrue(o.flags().containsAll(List.of("announce_submounts", "no_posix_lock", "f", "syslog")), o.flags().toString());
        assertEquals(Map.of("cache", "none", "timeout", "86400"), o.values());
        assertEquals(Path.of("/"), QemuVirtiofsdOptions.parse(List.of("--fd=3")).sharedDir(), "the C daemon's default source");
    }
}
