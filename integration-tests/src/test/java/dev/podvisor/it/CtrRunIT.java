package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The walking skeleton through real containerd (Debian's 1.6) and runc, with the testbed standing in for
 * cloud-hypervisor, virtiofsd and the guest: {@code ctr run --runtime io.containerd.kata.v2} as a user runs it.
 * After every test nothing of it is left: no shim, stand-in or runc process, no mount, loop device, socket
 * or state directory. Needs root, containerd and runc (CI has them; {@code scripts/setup.sh} installs them).
 */
class CtrRunIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String IMAGE = BusyboxImage.NAME;

    @TempDir
    static Path classDir;
    static PrivateContainerd containerd;
    static Path stateDir;

    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeAll
    static void startContainerd() {
        Path config = TestbedConfig.write(classDir.resolve("config"), "", 30);
        stateDir = classDir.resolve("config/state");
        containerd = PrivateContainerd.start(config);
        BusyboxImage.importInto(containerd, "default");
    }

    @AfterAll
    static void stopContainerd() {
        if (containerd != null) {
            containerd.close();
        }
    }

    @BeforeEach
    void snapshot() {
        before = Leftovers.take();
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        awaitExitOfNewProcesses();
        Leftovers.assertNothingNewSince(before, markers);
        try (var states = Files.list(stateDir.toFile().exists() ? stateDir : classDir)) {
            assertTrue(states.noneMatch(p -> markers.stream().anyMatch(m -> p.getFileName().toString().equals(m))),
                    "no shim state directory is left");
        }
        assertTrue(!Files.exists(classDir.resolve("config/shared")) || isEmpty(classDir.resolve("config/shared")),
                "no share directory is left");
    }

    /**
     * containerd returns from a task delete before the shim daemon has exited (it does not wait for any
     * shim, runc's included): wait, bounded, for this test's new processes to end on their own.
     */
    private void awaitExitOfNewProcesses() {
        FaultChecks.awaitExitOfNewProcesses(before, markers);
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private String id(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        return id;
    }

    private CommandResult run(String id, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME, IMAGE, id));
        args.addAll(List.of(command));
        return containerd.ctr(Duration.ofSeconds(120), args.toArray(String[]::new));
    }

    @Test
    void echoPrintsHello() {
        CommandResult result = run(id("hello"), "echo", "hello");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("hello\n", result.stdout());
    }

    @Test
    void exitStatusComesBack() {
        CommandResult result = run(id("exit"), "sh", "-c", "exit 3");
        assertEquals(3, result.exitCode(), result.toString());
    }

    @Test
    void stdinPipedToTheContainerComesBack() {
        String id = id("stdin");
        CommandResult result = containerd.runWithStdin("piped through the VM\n", "run", "--rm", "--runtime", RUNTIME,
                IMAGE, id, "head", "-n", "1");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("piped through the VM\n", result.stdout());
    }

    @Test
    void terminalGivesAPtyThatFollowsTheWindowSize() {
        String id = id("tty");
        // ctr sends the window size (ResizePty) only after Start: the container waits for it to land (busybox
        // stty exits 0 even when it cannot read a size, so it waits for the value); a lost resize times out
        String ctr = String.join(" ", "stty rows 40 cols 120;", "ctr", "--address", containerd.address().toString(),
                "run", "--rm", "-t", "--runtime", RUNTIME, IMAGE, id,
                "sh -c 'tty; until [ \"$(stty size 2>/dev/null)\" = \"40 120\" ]; do :; done; stty size'");
        // ctr -t needs a terminal on its own stdin: script(1) gives it one
        CommandResult result = Commands.run(List.of("script", "-qec", ctr, "/dev/null"), new byte[0],
                Duration.ofSeconds(120), java.util.Map.of());
        assertEquals(0, result.exitCode(), result.toString());
        assertTrue(result.stdout().contains("/dev/pts/"), result.toString());
        assertTrue(result.stdout().contains("40 120"), "the guest pty has ctr's window size: " + result);
    }

    @Test
    void execRunsInTheContainerAndKillEndsIt() {
        String id = id("exec");
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME, IMAGE, id,
                "sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.2; done").requireSuccess();
        CommandResult exec = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "e1", id,
                "sh", "-c", "echo from-exec; exit 7");
        assertEquals(7, exec.exitCode(), exec.toString());
        assertEquals("from-exec\n", exec.stdout());
        CommandResult execStdin = containerd.runWithStdin("to the exec\n", "task", "exec", "--exec-id", "e2", id,
                "head", "-n", "1");
        assertEquals("to the exec\n", execStdin.stdout(), execStdin.toString());

        // metrics come from the container's cgroup in the guest, as cgroup v1 Metrics
        CommandResult metrics = containerd.ctr("task", "metrics", id);
        assertEquals(0, metrics.exitCode(), metrics.toString());
        assertTrue(metrics.stdout().lines().map(String::strip).anyMatch(l -> l.matches("memory\\.usage_in_bytes\\s+[1-9][0-9]*")), metrics.toString());
        assertTrue(metrics.stdout().lines().map(String::strip).anyMatch(l -> l.matches("pids\\.current\\s+[1-9][0-9]*")), metrics.toString());

        containerd.ctr("task", "pause", id).requireSuccess();
        assertEquals("PAUSED", awaitStatus(id, "PAUSED"));
        containerd.ctr("task", "resume", id).requireSuccess();
        assertEquals("RUNNING", awaitStatus(id, "RUNNING"));
        assertEquals("after resume\n", containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "e3", id,
                "echo", "after resume").stdout());

        containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
        assertEquals("STOPPED", awaitStatus(id, "STOPPED"));
        CommandResult deleted = containerd.ctr("task", "delete", id);
        assertTrue(deleted.ok(), deleted.toString());
        assertTrue(deleted.stderr().contains("exit code 143"), deleted.toString());
        containerd.ctr("container", "rm", id).requireSuccess();
    }

    @Test
    void sigkillEndsTheTaskWith137() {
        String id = id("kill");
        CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(() -> run(id, "sleep", "1000"));
        assertEquals("RUNNING", awaitStatus(id, "RUNNING"));
        containerd.ctr("task", "kill", "-s", "SIGKILL", id).requireSuccess();
        CommandResult result = running.join();
        assertEquals(137, result.exitCode(), result.toString());
    }

    @Test
    void twoContainersRunInParallel() {
        String first = id("par-a");
        String second = id("par-b");
        var a = CompletableFuture.supplyAsync(() -> run(first, "sh", "-c", "echo one"));
        var b = CompletableFuture.supplyAsync(() -> run(second, "sh", "-c", "echo two"));
        assertEquals("one\n", a.join().stdout(), a.join().toString());
        assertEquals("two\n", b.join().stdout(), b.join().toString());
    }

    @Test
    void podContainersShareTheSandboxsShimAndVm() {
        String pod = id("pod");
        String app = id("app");
        String loop = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=sandbox", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                IMAGE, pod, "sh", "-c", loop).requireSuccess();
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=container", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                IMAGE, app, "sh", "-c", loop).requireSuccess();
        CommandResult inPod = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "e", app, "echo", "in the pod");
        assertEquals("in the pod\n", inPod.stdout(), inPod.toString());
        // one shim daemon (no action argument) and one VM serve both containers
        long daemons = ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("dev.podvisor.shim.ShimMain") && c.contains(containerd.address().toString())
                        && !c.endsWith(" start") && !c.endsWith(" delete")).count();
        assertEquals(1, daemons, "one shim daemon for the pod");
        long vmms = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains(stateDir.resolve(pod) + "/clh-api.sock")).count();
        assertEquals(1, vmms, "one VM for the pod");
        assertFalse(Files.exists(stateDir.resolve(app)), "no VM of its own for the pod's container");
        for (String id : List.of(app, pod)) {
            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            assertEquals("STOPPED", awaitStatus(id, "STOPPED"));
            containerd.ctr("task", "delete", id);
            containerd.ctr("container", "rm", id).requireSuccess();
        }
    }

    /** Polls {@code ctr task ls} until the task shows {@code status} (60 s at most); returns what it saw. */
    private String awaitStatus(String id, String status) {
        return FaultChecks.awaitStatus(containerd, id, status);
    }

    // ----------------------------------------------------------------------------------------- bad input

    @Test
    void startRefusesABundleWhoseConfigIsNotJson(@TempDir Path bundle) throws IOException {
        Files.writeString(bundle.resolve("config.json"), "{ this is not json");
        markers.add(bundle.toString());
        CommandResult result = Commands.run(List.of("sh", "-c", "cd " + bundle + " && exec "
                        + Installed.get().shimLauncher() + " -namespace default -address /run/podvisor-test-none.sock"
                        + " -publish-binary /usr/bin/containerd -id badjson start"),
                new byte[0], Duration.ofSeconds(60), java.util.Map.of());
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains(bundle.resolve("config.json") + ": not valid JSON"), result.toString());
        assertEquals("", result.stdout());
        assertFalse(Files.exists(bundle.resolve("address")), "no address is written");
    }

    @Test
    void deleteIsIdempotentAndAnswersADeleteResponse(@TempDir Path bundle) throws Exception {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\"}");
        markers.add(bundle.toString());
        for (int attempt = 1; attempt <= 2; attempt++) {
            var process = new ProcessBuilder(Installed.get().shimLauncher().toString(), "-namespace", "default",
                    "-address", "/run/podvisor-test-none.sock", "-publish-binary", "/usr/bin/containerd",
                    "-id", "gone", "-bundle", bundle.toString(), "delete").directory(bundle.toFile())
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] stdout = process.getInputStream().readAllBytes();
            assertEquals(0, process.waitFor(), "delete attempt " + attempt);
            var response = dev.podvisor.protocols.containerd.task.v2.DeleteResponse.parseFrom(stdout);
            assertEquals(137, response.getExitStatus(), "delete attempt " + attempt);
            assertTrue(response.getExitedAt().getSeconds() > 0, "delete attempt " + attempt);
        }
    }

    @Test
    void aBadConfigurationValueIsNamed(@TempDir Path dir) {
        String message = runWithConfig(dir, "default_memory = \"lots\"", 30, "badvalue");
        assertTrue(message.contains("default_memory") && message.contains("lots"), message);
    }

    @Test
    void aMissingCloudHypervisorIsNamed(@TempDir Path dir) {
        String message = runWithConfig(dir, "path = \"/nonexistent/cloud-hypervisor\"", 30, "nohv");
        assertTrue(message.contains("/nonexistent/cloud-hypervisor"), message);
    }

    @Test
    void aVmWhoseAgentNeverAnswersTimesOut(@TempDir Path dir) throws IOException {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Path wrapper = dir.resolve("cloud-hypervisor");
        Files.writeString(wrapper, "#!/bin/sh\nexport PODVISOR_TESTBED_GUEST_CMD='" + java + " -cp "
                + System.getProperty("java.class.path") + " " + SilentGuest.class.getName() + "'\nexec "
                + Installed.get().prefix().resolve("testbed/bin/cloud-hypervisor") + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
        String message = runWithConfig(dir, "path = " + TestbedConfig.quote(wrapper), 2, "silent");
        assertTrue(message.contains("no answer from the guest agent on hybrid vsock"), message);
        assertTrue(message.contains("within 2000 ms"), message);
    }

    /** Runs {@code echo} with its own containerd and configuration; returns ctr's error output (it must fail). */
    private String runWithConfig(Path dir, String clhOverride, int dialTimeout, String stem) {
        Path config = TestbedConfig.write(dir, clhOverride, dialTimeout);
        try (PrivateContainerd own = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(own, "default");
            String id = own.uniqueId(stem);
            markers.add(id);
            CommandResult result = own.ctr(Duration.ofSeconds(120), "run", "--rm", "--runtime", RUNTIME, IMAGE, id,
                    "echo", "never");
            assertFalse(result.ok(), result.toString());
            assertFalse(result.stdout().contains("never"), result.toString());
            own.ctr("container", "rm", id);
            return result.stderr();
        }
    }
}
