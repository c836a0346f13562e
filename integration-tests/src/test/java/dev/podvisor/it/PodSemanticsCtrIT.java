package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PodCgroups;
import dev.podvisor.it.support.Poll;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kubernetes pod semantics through real containerd with {@code ctr}, the CRI annotations set by hand as
 * containerd's CRI sets them ({@code io.kubernetes.cri.container-type}, {@code .sandbox-id}) and volumes laid out
 * as kubelet lays them out under a pod directory: a memory emptyDir outlives the containers that use it (init
 * container, re-created container), never reaches the host, is one guest Storage shared by two containers; a
 * secret updated with kubelet's atomic writer shows in the container; the shim, VMM and virtiofsd sit in Kata's
 * cgroups under the pod cgroup, which are gone afterwards; ten pods in a row leave nothing.
 */
class PodSemanticsCtrIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String IMAGE = BusyboxImage.NAME;
    static final String LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path classDir;
    static PrivateContainerd containerd;
    static Path stateDir;

    @TempDir
    Path dir;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();
    final List<Runnable> cleanups = new ArrayList<>();
    /** The shim daemons this test started. */
    final List<Long> daemons = new ArrayList<>();
    /** kubelet's pod cgroup for this test, hierarchy-relative ({@code /podvisor-it-<id>/pod<uid>}). */
    String podCgroup;

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
    void setUp() {
        before = Leftovers.take();
        // kubelet creates the pod cgroup before RunPodSandbox; so does this test (and removes it afterwards)
        PodCgroups cgroups = PodCgroups.create(containerd.uniqueId("podvisor-it"), containerd.uniqueId("uid"));
        cleanups.add(cgroups::close);
        podCgroup = cgroups.path();
    }

    @AfterEach
    void tearDown() {
        // containerd returns from a task delete before the shim daemon exits: wait for the daemons, bounded
        for (long pid : daemons) {
            ProcessHandle.of(pid).ifPresent(handle -> {
                try {
                    handle.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception stillRunning) {
                    // reported by Leftovers
                }
            });
        }
        try {
            Leftovers.assertNothingNewSince(before, markers);
        } finally {
            for (int i = cleanups.size() - 1; i >= 0; i--) {
                cleanups.get(i).run();
            }
        }
    }

    // ----------------------------------------------------------------------------------------------- tests

    @Test
    void aMemoryEmptyDirLivesAsLongAsThePodAndNeverReachesTheHost() throws IOException {
        Path cache = emptyDirOnTmpfs("cache", "16m");
        String pod = sandbox(true);
        try {
            CommandResult init = ctr("run", "--rm", "--runtime", RUNTIME, "--mount", bind(cache, "/cache"),
                    criContainer(pod), IMAGE, id("init"), "sh", "-c", "echo from-init > /cache/data");
            assertEquals(0, init.exitCode(), init.toString());

            String app = startContainer(pod, cache);
            assertEquals("from-init\n", exec(app, "cat /cache/data"), "the app container reads the init container's output");
            removeContainer(app);
            String restarted = startContainer(pod, cache);
            assertEquals("from-init\n", exec(restarted, "cat /cache/data"), "a re-created container finds it still there");

            String side = startContainer(pod, cache);
            exec(side, "echo from-side > /cache/side");
            assertEquals("from-side\n", exec(restarted, "cat /cache/side"), "two running containers share the volume");
            try (var files = Files.list(cache)) {
                assertTrue(files.findAny().isEmpty(), "the host directory never holds the data");
            }

            List<JsonNode> log = testbedLog(pod);
            String mountPoint = "/run/kata-containers/sandbox/ephemeral/cache";
            assertEquals(1, log.stream().filter(l -> l.path("kind").asText().equals("storage")
                    && l.path("mountPoint").asText().equals(mountPoint)
                    && l.path("action").asText().equals("mount")).count(), "one guest tmpfs for the pod: " + mountPoint);
            assertTrue(log.stream().noneMatch(l -> l.path("kind").asText().equals("storage")
                    && l.path("mountPoint").asText().equals(mountPoint) && l.path("action").asText().equals("unmount")),
                    "no container removal unmounted it");
            removeContainer(side);
            removeContainer(restarted);
        } finally {
            removeContainer(pod);
        }
        assertSandboxCgroupsGone(pod);
    }

    @Test
    void aSecretUpdatedByKubeletsAtomicWriterIsSeenByTheContainer() throws IOException {
        Path secret = dir.resolve("pods/uid/volumes/kubernetes.io~secret/token");
        Files.createDirectories(secret);
        sh("mount -t tmpfs -o size=1m podvisor-it-secret " + secret);
        cleanups.add(() -> Commands.run(List.of("umount", secret.toString())));
        atomicWrite(secret, "..2026_12_01_00_00_00.1", "first");
        String pod = sandbox(true);
        try {
            String app = id("app");
            ctr("run", "-d", "--runtime", RUNTIME, "--mount", "type=bind,src=" + secret + ",dst=/secret,options=rbind:ro",
                    criContainer(pod), IMAGE, app, "sh", "-c", LOOP).requireSuccess();
            assertEquals("first", exec(app, "cat /secret/token"));
            atomicWrite(secret, "..2026_12_01_00_01_00.2", "second");
            assertEquals("second", Poll.until(() -> exec(app, "cat /secret/token"), "second", Duration.ofSeconds(30)),
                    "the new timestamped directory behind the swapped ..data link");
            removeContainer(app);
        } finally {
            removeContainer(pod);
        }
    }

    @Test
    void withSandboxCgroupOnlyTheShimVmmAndVirtiofsdAreInThePodCgroup() throws IOException {
        String pod = sandbox(true);
        try {
            String expected = podCgroup + "/kata_" + pod;
            for (long pid : podProcesses(pod)) {
                assertEquals(expected, PodCgroups.memoryCgroupOf(pid), "process " + pid + " " + cmdline(pid));
            }
        } finally {
            removeContainer(pod);
        }
        assertSandboxCgroupsGone(pod);
    }

    @Test
    void withoutSandboxCgroupOnlyTheyAreInKatasOverheadCgroup() throws IOException {
        String pod = sandbox(false);
        try {
            for (long pid : podProcesses(pod)) {
                assertEquals("/kata_overhead/" + pod, PodCgroups.memoryCgroupOf(pid), "process " + pid + " " + cmdline(pid));
            }
            assertTrue(PodCgroups.existsEverywhere(podCgroup + "/kata_" + pod), "the sandbox cgroup for the vCPUs");
        } finally {
            removeContainer(pod);
        }
        assertSandboxCgroupsGone(pod);
        assertTrue(PodCgroups.awaitGoneEverywhere("/kata_overhead/" + pod), "the overhead cgroup is removed");
    }

    @Test
    void whenTheShimDiesDeleteRemovesTheCgroupsItMade() throws IOException {
        String pod = sandbox(true);
        List<Long> processes = podProcesses(pod);
        try {
            assertTrue(PodCgroups.existsEverywhere(podCgroup + "/kata_" + pod));
            // containerd sees its shim die and runs `containerd-shim-kata-v2 delete`, which undoes from the state
            ProcessHandle.of(processes.getFirst()).orElseThrow().destroyForcibly();
            assertSandboxCgroupsGone(pod);
            for (long pid : processes) {
                assertTrue(ProcessHandle.of(pid).map(h -> {
                    try {
                        h.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
                        return true;
                    } catch (Exception stillRunning) {
                        return false;
                    }
                }).orElse(true), "process " + pid + " ended");
            }
        } finally {
            removeContainer(pod);
        }
    }

    @Test
    void tenPodsInARowOneShimAndOneVmEachAndNothingLeft() throws IOException {
        for (int i = 0; i < 10; i++) {
            String pod = sandbox(true);
            try {
                List<Long> processes = podProcesses(pod);
                assertEquals(1, daemonsOf(pod), "one shim daemon for pod " + i);
                assertEquals(1, ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                        .contains(stateDir.resolve(pod) + "/clh-api.sock")).count(), "one VM for pod " + i);
                assertEquals(3, processes.size(), "shim, VMM and virtiofsd of pod " + i + ": " + processes);
            } finally {
                removeContainer(pod);
            }
            assertSandboxCgroupsGone(pod);
            assertFalse(Files.exists(stateDir.resolve(pod)), "no state left for pod " + i);
        }
    }

    // ------------------------------------------------------------------------------------------- helpers

    /** Starts the pod's sandbox container with its cgroup below the test's pod cgroup. */
    private String sandbox(boolean sandboxCgroupOnly) {
        String pod = id("sb");
        ctr("run", "-d", "--runtime", RUNTIME, "--cgroup", podCgroup + "/" + pod,
                "--annotation", "io.kubernetes.cri.container-type=sandbox", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                "--annotation", "io.katacontainers.config.runtime.sandbox_cgroup_only=" + sandboxCgroupOnly,
                IMAGE, pod, "sh", "-c", LOOP).requireSuccess();
        try {
            daemons.add(Long.parseLong(Files.readString(containerd.bundle("default", pod).resolve("shim.pid")).trim()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return pod;
    }

    private String startContainer(String pod, Path cache) {
        String id = id("app");
        ctr("run", "-d", "--runtime", RUNTIME, "--mount", bind(cache, "/cache"), criContainer(pod), IMAGE, id,
                "sh", "-c", LOOP).requireSuccess();
        return id;
    }

    /** The CRI annotations of a pod's (non-sandbox) container, as containerd's CRI sets them. */
    private static List<String> criContainer(String pod) {
        return List.of("--annotation", "io.kubernetes.cri.container-type=container",
                "--annotation", "io.kubernetes.cri.sandbox-id=" + pod);
    }

    /** {@code ctr} with its arguments: strings, and lists of strings spliced in place. */
    private CommandResult ctr(Object... args) {
        List<String> flat = new ArrayList<>();
        for (Object arg : args) {
            if (arg instanceof List<?> list) {
                list.forEach(a -> flat.add((String) a));
            } else {
                flat.add((String) arg);
            }
        }
        return containerd.ctr(Duration.ofSeconds(120), flat.toArray(String[]::new));
    }

    private String exec(String container, String script) {
        CommandResult r = ctr("task", "exec", "--exec-id", id("e"), container, "sh", "-c", script);
        assertEquals(0, r.exitCode(), r.toString());
        return r.stdout();
    }

    private void removeContainer(String id) {
        ctr("task", "kill", "-s", "SIGKILL", id);
        Poll.until(() -> ctr("task", "delete", id).exitCode() == 0 || ctr("task", "ls").stdout().lines()
                .noneMatch(l -> l.startsWith(id + " ")) ? "gone" : "running", "gone", Duration.ofSeconds(30));
        ctr("container", "rm", id);
    }

    private String id(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        return id;
    }

    private static String bind(Path source, String destination) {
        return "type=bind,src=" + source + ",dst=" + destination + ",options=rbind:rw";
    }

    /** {@code <dir>/pods/uid/volumes/kubernetes.io~empty-dir/<name>} on a tmpfs of {@code size}, as kubelet mounts it. */
    private Path emptyDirOnTmpfs(String name, String size) throws IOException {
        Path volume = dir.resolve("pods/uid/volumes/kubernetes.io~empty-dir").resolve(name);
        Files.createDirectories(volume);
        sh("mount -t tmpfs -o size=" + size + ",mode=0777 podvisor-it-emptydir " + volume);
        cleanups.add(() -> Commands.run(List.of("umount", volume.toString())));
        return volume;
    }

    /**
     * kubelet's atomic writer: the files go into a new timestamped directory, a {@code ..data_tmp} link to it is
     * renamed over {@code ..data}, and each visible file is a link through {@code ..data}.
     */
    private static void atomicWrite(Path volume, String timestamped, String token) throws IOException {
        Path data = Files.createDirectory(volume.resolve(timestamped));
        Files.writeString(data.resolve("token"), token);
        Path tmp = volume.resolve("..data_tmp");
        Files.createSymbolicLink(tmp, Path.of(timestamped));
        Files.move(tmp, volume.resolve("..data"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        if (!Files.exists(volume.resolve("token"), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            Files.createSymbolicLink(volume.resolve("token"), Path.of("..data/token"));
        }
    }

    /** The testbed's JSON lines for the pod's VM ({@code <vm dir>/testbed.jsonl}). */
    private static List<JsonNode> testbedLog(String pod) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(stateDir.resolve(pod).resolve("testbed.jsonl"))) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    /** The shim daemon, the VMM and virtiofsd of the pod, from the shim's pid file and the sandbox state. */
    private List<Long> podProcesses(String pod) throws IOException {
        List<Long> pids = new ArrayList<>();
        pids.add(Long.parseLong(Files.readString(containerd.bundle("default", pod).resolve("shim.pid")).trim()));
        JsonNode state = JSON.readTree(stateDir.resolve(pod).resolve("sandbox.json").toFile());
        pids.add(state.path("vmmPid").asLong());
        state.path("virtiofsdPids").forEach(p -> pids.add(p.asLong()));
        return pids;
    }

    private long daemonsOf(String pod) {
        return ProcessHandle.allProcesses().filter(p -> {
            String c = p.info().commandLine().orElse("");
            return c.contains("dev.podvisor.shim.ShimMain") && c.contains(containerd.address().toString())
                    && !c.endsWith(" delete");
        }).filter(p -> {
            try {
                return Files.readString(containerd.bundle("default", pod).resolve("shim.pid")).trim()
                        .equals(Long.toString(p.pid()));
            } catch (IOException e) {
                return false;
            }
        }).count();
    }

    private static String cmdline(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElse("?");
    }

    private void assertSandboxCgroupsGone(String pod) {
        assertTrue(PodCgroups.awaitGoneEverywhere(podCgroup + "/kata_" + pod), "the sandbox cgroup is removed");
        assertTrue(PodCgroups.existsEverywhere(podCgroup), "kubelet's pod cgroup stays");
    }


    private static void sh(String script) {
        Commands.run(List.of("sh", "-c", script)).requireSuccess();
    }
}
