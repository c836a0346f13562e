package dev.podvisor.testbed.virtiofsd;

import dev.podvisor.testbed.ch.StandIns;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The virtiofsd stand-in: its command line (in-process) and its one-VMM-connection life (through {@code bin/}). */
class VirtiofsdStandInTest {
    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void cleanup() {
        processes.forEach(StandIns::kill);
    }

    private static VirtiofsdOptions.UsageException refused(String... args) {
        return assertThrows(VirtiofsdOptions.UsageException.class, () -> VirtiofsdOptions.parse(List.of(args)));
    }

    @Test
    void parsesTheGoRuntimeCommandLine() throws Exception {
        VirtiofsdOptions o = VirtiofsdOptions.parse(List.of("--syslog", "--cache=auto", "--shared-dir=/run/kata/shared",
                "--fd=3", "--thread-pool-size=1", "--announce-submounts"));
        assertEquals(Path.of("/run/kata/shared"), o.sharedDir());
        assertEquals(3, o.fd());
        assertNull(o.socketPath());
        assertEquals("auto", o.cache());
        assertEquals(1, o.threadPoolSize());
        assertTrue(o.flags().containsAll(List.of("syslog", "announce-submounts")));
    }

    @Test
    void parsesTheRustRuntimeCommandLineAndCompatOptions() throws Exception {
        VirtiofsdOptions o = VirtiofsdOptions.parse(List.of("--socket-path", "/run/kata/x/root/virtiofsd.sock",
                "--shared-dir", "/run/kata/x/ro", "--cache", "never", "--thread-pool-size=1", "-o", "announce_submounts",
                "--xattr", "--sandbox", "none", "--seccomp", "none", "--log-level", "debug", "--rlimit-nofile", "4096",
                "--modcaps=-mknod", "--posix-acl", "--readonly", "--allow-direct-io", "--writeback", "-f"));
        assertEquals(Path.of("/run/kata/x/root/virtiofsd.sock"), o.socketPath());
        assertEquals(-1, o.fd());
        assertEquals("never", o.cache());
        assertEquals("none", o.sandbox());
        assertEquals("debug", o.logLevel());
        assertEquals("4096", o.values().get("rlimit-nofile"));
        assertEquals("-mknod", o.values().get("modcaps"));
        assertTrue(o.flags().containsAll(List.of("announce-submounts", "xattr", "posix-acl", "readonly",
                "allow-direct-io", "writeback")));

        VirtiofsdOptions legacy = VirtiofsdOptions.parse(List.of("--socket-path=/s", "-o",
                "source=/src,cache=always,xattr,no_posix_lock", "-d"));
        assertEquals(Path.of("/src"), legacy.sharedDir());
        assertEquals("always", legacy.cache());
        assertEquals("debug", legacy.logLevel());
        assertTrue(legacy.flags().contains("xattr"));
    }

    @Test
    void refusesWhatTheRealOneRefuses() {
        var unknown = refused("--socket-path", "/s", "--shared-dir", "/d", "--frobnicate");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.getMessage().contains("unexpected argument '--frobnicate'"), unknown.getMessage());
        var badCache = refused("--socket-path", "/s", "--shared-dir", "/d", "--cache", "sometimes");
        assertEquals(2, badCache.exitCode());
        assertTrue(badCache.getMessage().contains("possible values: auto, always, metadata, never"));
        assertEquals(2, refused("--socket-path", "/s", "--shared-dir", "/d", "--xattr=true").exitCode());
        assertEquals(2, refused("--socket-path", "/s", "--shared-dir", "/d", "--thread-pool-size", "many").exitCode());
        assertEquals(2, refused("--socket-path", "/s", "--fd", "3", "--shared-dir", "/d").exitCode());
        var compat = refused("--socket-path", "/s", "-o", "source=/d,turbo");
        assertEquals(1, compat.exitCode());
        assertTrue(compat.getMessage().contains("turbo"));
        assertTrue(refused("--socket-path", "/s").getMessage().contains("--shared-dir"));
        assertTrue(refused("--shared-dir", "/d").getMessage().contains("--socket-path"));
    }

    /** Connects like a VMM does: retrying while the socket exists but is not listening yet (bind before listen). */
    private static SocketChannel connect(Path sock, Process p) throws Exception {
        SocketChannel[] out = new SocketChannel[1];
        StandIns.await("connect to " + sock, () -> {
            try {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    c.connect(UnixDomainSocketAddress.of(sock));
                    out[0] = c;
                    return true;
                } catch (java.io.IOException e) {
                    c.close();
                    return false;
                }
            } catch (java.io.IOException e) {
                return false;
            }
        }, p, Duration.ofSeconds(60));
        return out[0];
    }

    private static String ask(SocketChannel c) throws Exception {
        c.write(ByteBuffer.wrap("SHARED-DIR\n".getBytes(StandardCharsets.US_ASCII)));
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (c.read(one.clear()) > 0 && one.get(0) != '\n') {
            sb.append((char) one.get(0));
        }
        return sb.toString();
    }

    @Test
    void servesOneVmmConnectionAndExitsWhenItCloses() throws Exception {
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Path sock = tmp.resolve("virtiofsd.sock");
        Files.writeString(sock, "stale"); // a stale file is replaced, as the real listener unlinks first
        Process p = StandIns.builder("virtiofsd", List.of("--socket-path=" + sock, "--shared-dir=" + shared,
                "--cache=auto", "--thread-pool-size=1", "--announce-submounts", "--syslog"), tmp.resolve("out")).start();
        processes.add(p);
        StandIns.await("virtiofsd listens (the stale file became a socket)", () -> Files.exists(sock) && !Files.isRegularFile(sock),
                p, Duration.ofSeconds(60));
        try (SocketChannel c = connect(sock, p)) {
            assertEquals(shared.toString(), ask(c));
            assertEquals(shared.toString(), ask(c), "asking again answers again");
            StandIns.await("socket removed after the VMM connected", () -> !Files.exists(sock), p, Duration.ofSeconds(30));
            assertTrue(p.isAlive(), "serving while the VMM is connected");
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits when the VMM disconnects");
        assertEquals(0, p.exitValue());
        assertTrue(Files.readString(tmp.resolve("out")).contains("Client disconnected"));
    }

    /**
     * {@code --fd=3} as Kata's Go runtime passes it: the listening socket is created by the parent (here a
     * python3 one-liner, since the JDK cannot hand a descriptor to a child) and inherited as fd 3.
     */
    @Test
    void servesAnInheritedListeningDescriptor() throws Exception {
        // python3 (installed by scripts/setup.sh) creates the inherited listening socket
        Path shared = Files.createDirectory(tmp.resolve("shared"));
        Path sock = tmp.resolve("inherited.sock");
        String py = "import os,socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
                + "s.bind(sys.argv[1]); s.listen(1)\n"
                + "os.dup2(s.fileno(),3); os.set_inheritable(3,True)\n"
                + "os.execv(sys.argv[2],sys.argv[2:])\n";
        ProcessBuilder pb = StandIns.builder("virtiofsd", List.of(), tmp.resolve("out"));
        pb.command().clear();
        pb.command().addAll(List.of("python3", "-c", py, sock.toString(), StandIns.bin("virtiofsd").toString(),
                "--syslog", "--cache=auto", "--shared-dir=" + shared, "--fd=3", "--thread-pool-size=1",
                "--announce-submounts"));
        Process p = pb.start();
        processes.add(p);
        try (SocketChannel c = connect(sock, p)) {
            assertEquals(shared.toString(), ask(c));
        }
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "exits when the VMM disconnects");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("out")));
    }

    @Test
    void launcherRefusesUnknownFlagsAndMissingSharedDir() throws Exception {
        StandIns.Result bad = StandIns.run("virtiofsd", List.of("--socket-path", tmp.resolve("s").toString(),
                "--shared-dir", tmp.toString(), "--no-such-flag"));
        assertEquals(2, bad.exit());
        assertTrue(bad.stderr().contains("unexpected argument '--no-such-flag'"), bad.stderr());

        StandIns.Result noDir = StandIns.run("virtiofsd", List.of("--socket-path", tmp.resolve("s").toString(),
                "--shared-dir", tmp.resolve("missing").toString()));
        assertEquals(1, noDir.exit());
        assertTrue(noDir.stderr().contains(tmp.resolve("missing").toString()), noDir.stderr());
        assertFalse(Files.exists(tmp.resolve("s")), "nothing left behind");

        StandIns.Result version = StandIns.run("virtiofsd", List.of("--version"));
        assertEquals(0, version.exit());
        assertTrue(version.stdout().startsWith("virtiofsd 1."));
    }
}
