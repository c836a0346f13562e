package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;
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
 * The walking skeleton through real containerd (1.6 or 2.1, see {@link dev.podvisor.it.support.ContainerdVersion})
 * and runc, with the testbed standing in for cloud-hypervisor, virtiofsd and the guest:
 * {@code ctr run --runtime io.containerd.kata.v2} as a user runs it, the scenarios of {@link CtrScenarios} and
 * Podvisor's own (pods, bad input).
 * After every test nothing of it is left: no shim, stand-in or runc process, no mount, loop device, socket
 * or state directory. Needs root, containerd and runc (CI has them; {@code scripts/setup.sh} installs them).
 */
class CtrRunIT extends CtrScenarios {

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

    /** containerd answers a task delete before the shim exited: wait, bounded, for this test's processes. */
    private void awaitExitOfNewProcesses() {
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    @Override
    String id(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        return id;
    }

    @Override
    PrivateContainerd containerd() {
        return containerd;
    }

    @Override
    Duration timeout() {
        return Duration.ofSeconds(120);
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
        // one shim daemon (the JVM of the pod's first start, the only shim JVM left once ctr returned) and one VM
        // serve both containers
        long daemons = ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                .filter(c -> c.contains("dev.podvisor.shim.ShimMain") && c.contains(containerd.address().toString())
                        && !c.endsWith(" delete")).count();
        assertEquals(1, daemons, "one shim daemon for the pod");
        long vmms = ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains(stateDir.resolve(pod) + "/clh-api.sock")).count();
        assertEquals(1, vmms, "one VM for the pod");
        assertFalse(Files.exists(stateDir.resolve(app)), "no VM of its own for the pod's container");
        for (String id : List.of(app, pod)) {
            containerd.ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
            assertEquals("STOPPED", awaitStatus(id, "STOPPED"));
            containerd.ctr("task", "delete", id).requireSuccess();
            containerd.ctr("container", "rm", id).requireSuccess();
        }
    }


    // ----------------------------------------------------------------------------------------- bad input

    /** The installed launcher's {@code start} in {@code bundle}, with the arguments containerd passes. */
    private CommandResult startIn(Path bundle, String id) {
        markers.add(bundle.toString());
        return Commands.run(List.of("sh", "-c", "cd " + bundle + " && exec "
                        + Installed.get().shimLauncher() + " -namespace default -address /run/podvisor-test-none.sock"
                        + " -publish-binary /usr/bin/containerd -id " + id + " start"),
                new byte[0], Duration.ofSeconds(60), java.util.Map.of());
    }

    @Test
    void startRefusesABundleWhoseConfigIsNotJson(@TempDir Path bundle) throws IOException {
        Files.writeString(bundle.resolve("config.json"), "{ this is not json");
        CommandResult result = startIn(bundle, "badjson");
        assertEquals(1, result.exitCode(), result.toString());
        assertTrue(result.stderr().contains(bundle.resolve("config.json") + ": not valid JSON"), result.toString());
        assertEquals("", result.stdout());
        assertFalse(Files.exists(bundle.resolve("address")), "no address is written");
    }

    @Test
    void startWithoutConfigJsonAsFromContainerd2sSandboxApiIsANamedRefusal(@TempDir Path bundle) throws IOException {
        // containerd 2.x, runtime with sandboxer = "shim": the bundle has no config.json (plugins/sandbox/controller.go)
        CommandResult result = startIn(bundle, "sandboxapi");
        assertEquals(1, result.exitCode(), result.toString());
        assertEquals("containerd-shim-kata-v2: sandbox API not supported: bundle " + bundle + " has no config.json,"
                + " as when containerd 2.x starts a runtime with sandboxer = \"shim\"; configure the kata runtime with"
                + " sandboxer = \"podsandbox\" (containerd's default)", result.stderr().strip(),
                "one line naming the cause, no Java exception: " + result);
        assertEquals("", result.stdout());
        try (var files = Files.list(bundle)) {
            assertEquals(List.of(), files.toList(), "nothing written to the bundle");
        }
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
