package dev.podvisor.testbed.ch;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cloud-hypervisor stand-in's command line, parsed in-process and run through {@code bin/}. */
class CloudHypervisorMainTest {

    @Test
    void acceptsTheCommandLinesKataUses() throws Exception {
        CloudHypervisorMain.CommandLine go = CloudHypervisorMain.parse(
                List.of("--api-socket", "/run/vc/vm/x/clh-api.sock", "-v", "-v", "--seccomp", "false"));
        assertEquals(Path.of("/run/vc/vm/x/clh-api.sock"), go.apiSocket());
        assertEquals(2, go.verbosity());
        assertEquals("false", go.seccomp());

        CloudHypervisorMain.CommandLine rs = CloudHypervisorMain.parse(
                List.of("--api-socket", "path=/run/kata/x/ch-api.sock", "-vv", "--seccomp=log", "--log-file=/tmp/ch.log"));
        assertEquals(Path.of("/run/kata/x/ch-api.sock"), rs.apiSocket());
        assertEquals(2, rs.verbosity());
        assertEquals("log", rs.seccomp());
        assertEquals(Path.of("/tmp/ch.log"), rs.logFile());
        assertEquals(Path.of("/a.sock"), CloudHypervisorMain.parse(List.of("--api-socket=path=/a.sock")).apiSocket());
        CloudHypervisorMain.CommandLine fd = CloudHypervisorMain.parse(List.of("--api-socket", "fd=3"));
        assertEquals(3, fd.apiFd());
        assertEquals(null, fd.apiSocket());
    }

    @Test
    void refusesUnknownUnsupportedAndMalformedArguments() {
        var unknown = assertThrows(CloudHypervisorMain.UsageException.class,
                () -> CloudHypervisorMain.parse(List.of("--api-socket", "/a", "--frobnicate")));
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.getMessage().contains("unexpected argument '--frobnicate'"), unknown.getMessage());

        var fd = assertThrows(CloudHypervisorMain.UsageException.class,
                () -> CloudHypervisorMain.parse(List.of("--api-socket", "fd=three")));
        assertEquals(1, fd.exitCode());
        assertTrue(fd.getMessage().contains("fd=three"), fd.getMessage());

        var kernel = assertThrows(CloudHypervisorMain.UsageException.class,
                () -> CloudHypervisorMain.parse(List.of("--kernel", "/vmlinux")));
        assertTrue(kernel.getMessage().contains("--kernel"), kernel.getMessage());

        var seccomp = assertThrows(CloudHypervisorMain.UsageException.class,
                () -> CloudHypervisorMain.parse(List.of("--seccomp", "maybe")));
        assertTrue(seccomp.getMessage().contains("maybe"), seccomp.getMessage());

        var noValue = assertThrows(CloudHypervisorMain.UsageException.class,
                () -> CloudHypervisorMain.parse(List.of("--api-socket")));
        assertEquals(2, noValue.exitCode());
    }

    /** {@code --api-socket fd=3}: the parent (a python3 one-liner) binds and listens, the stand-in serves. */
    @Test
    void servesAnInheritedApiSocketDescriptor(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        // python3 (installed by scripts/setup.sh) creates the inherited listening socket
        Path api = tmp.resolve("api.sock");
        String py = "import os,socket,sys\n"
                + "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
                + "s.bind(sys.argv[1]); s.listen(8)\n"
                + "os.dup2(s.fileno(),3); os.set_inheritable(3,True)\n"
                + "os.execv(sys.argv[2],sys.argv[2:])\n";
        ProcessBuilder pb = StandIns.builder("cloud-hypervisor", List.of(), tmp.resolve("out"));
        pb.command().clear();
        pb.command().addAll(List.of("python3", "-c", py, api.toString(), StandIns.bin("cloud-hypervisor").toString(),
                "--api-socket", "fd=3", "-v"));
        Process p = pb.start();
        try {
            StandIns.await("API on fd 3", () -> StandIns.accepts(api), p, java.time.Duration.ofSeconds(60));
            try (ApiClient c = new ApiClient(api)) {
                assertEquals(200, c.call("GET", "vmm.ping", null).status());
                assertEquals(404, c.call("GET", "vm.info", null).status());
                assertEquals(204, c.call("PUT", "vmm.shutdown", null).status());
            }
            assertTrue(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "vmm.shutdown ends the process");
            assertTrue(java.nio.file.Files.readString(tmp.resolve("testbed.jsonl")).contains("\"apiFd\":3"));
        } finally {
            StandIns.kill(p);
        }
    }

    @Test
    void launcherRunsTheStandInAndExitsLikeClapOnUnknownFlags() throws Exception {
        StandIns.Result version = StandIns.run("cloud-hypervisor", List.of("--version"));
        assertEquals(0, version.exit(), version.stderr());
        assertEquals("cloud-hypervisor v53.0.0", version.stdout().trim());

        StandIns.Result bad = StandIns.run("cloud-hypervisor", List.of("--api-socket", "/tmp/x.sock", "--bogus"));
        assertEquals(2, bad.exit());
        assertTrue(bad.stderr().contains("error: unexpected argument '--bogus' found"), bad.stderr());

        StandIns.Result noDir = StandIns.run("cloud-hypervisor", List.of("--api-socket", "/nonexistent-dir-podvisor/api.sock"));
        assertEquals(1, noDir.exit());
        assertTrue(noDir.stderr().contains("/nonexistent-dir-podvisor"), noDir.stderr());
    }
}
