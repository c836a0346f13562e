package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.cri.Container;
import dev.podvisor.it.cri.CriClient;
import dev.podvisor.it.cri.Kubelet;
import dev.podvisor.it.cri.Pod;
import dev.podvisor.it.cri.PodSpec;
import dev.podvisor.it.cri.Volume;
import dev.podvisor.it.cri.VolumeMount;
import dev.podvisor.it.cri.api.Cri;
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
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kubernetes pod semantics through containerd's CRI as kubelet drives it ({@link Kubelet}), with Podvisor on the
 * testbed: a memory emptyDir lives as long as the pod (an init container's output survives it and a re-created
 * app container, two containers share one guest tmpfs, the host never holds the data); a secret updated with
 * kubelet's atomic writer shows in the container; the shim, VMM and virtiofsd are in Kata's cgroups below the pod
 * cgroup kubelet passes as {@code cgroup_parent}, and those cgroups are gone after RemovePodSandbox; ten pods in a
 * row get one shim and one VM each and leave nothing.
 */
class PodSemanticsIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String SLEEP = "exec sleep 2147483647";

    @TempDir
    static Path classDir;
    static CriNode node;
    static PrivateContainerd containerd;
    static CriClient cri;

    @TempDir
    Path kubeletRoot;
    Kubelet kubelet;
    PodCgroups podCgroups;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeAll
    static void startContainerd() {
        node = CriNode.start(classDir, PrivateContainerd.builder().cni(true));
        containerd = node.containerd();
        cri = node.cri();
    }

    @AfterAll
    static void stopContainerd() {
        if (node != null) {
            node.close();
        }
    }

    @BeforeEach
    void start() {
        before = Leftovers.take();
        kubelet = Kubelet.create(cri, kubeletRoot);
        markers.add(kubeletRoot.toString());
        markers.addAll(node.markers());
        // kubelet makes the pod cgroup before RunPodSandbox and passes it as cgroup_parent
        podCgroups = PodCgroups.create(containerd.uniqueId("podvisor-it"), containerd.uniqueId("uid"));
    }

    @AfterEach
    void nothingLeftBehind() {
        try {
            kubelet.close();
            Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
            Leftovers.assertNothingNewSince(before, markers);
            assertEquals(0, cri.runtime().listPodSandbox(Cri.ListPodSandboxRequest.getDefaultInstance()).getItemsCount(),
                    "no sandbox left in containerd");
        } finally {
            podCgroups.close();
        }
    }

    private PodSpec pod(String stem) {
        return PodSpec.named(stem + "-" + Long.toHexString(System.nanoTime() & 0xffffff))
                .withRuntimeHandler("kata")
                .withCgroupParent(podCgroups.path());
    }

    private Pod run(PodSpec spec) {
        Pod pod = kubelet.run(spec);
        markers.add(pod.sandboxId());
        return pod;
    }

    // ----------------------------------------------------------------------------------------------- tests

    @Test
    void anInitContainersMemoryEmptyDirOutputOutlivesContainersAndNeverReachesTheHost() throws IOException {
        PodSpec spec = pod("emptydir")
                .withVolume(Volume.memoryEmptyDir("cache", 16 << 20))
                .withInitContainer(Container.busybox("init", "sh", "-c", "echo from-init > /cache/data").mount("cache", "/cache"))
                .withContainer(Container.busybox("app", "sh", "-c", SLEEP).mount("cache", "/cache"))
                .withContainer(Container.busybox("side", "sh", "-c", SLEEP).mount("cache", "/cache"));
        Pod pod = run(spec);

        assertEquals("from-init", pod.exec("app", "cat", "/cache/data").requireSuccess().out(),
                "the app container reads what the init container wrote");
        pod.kill("app");
        markers.add(pod.restart("app"));
        assertEquals("from-init", pod.exec("app", "cat", "/cache/data").requireSuccess().out(),
                "a killed and re-created container finds it still there");
        pod.exec("side", "sh", "-c", "echo from-side > /cache/side").requireSuccess();
        assertEquals("from-side", pod.exec("app", "cat", "/cache/side").requireSuccess().out(),
                "two containers of the pod share the volume");
        try (var files = Files.list(pod.volumeDir("cache"))) {
            assertTrue(files.findAny().isEmpty(), "the host directory never holds the data");
        }

        List<JsonNode> log = testbedLog(pod.sandboxId());
        String mountPoint = "/run/kata-containers/sandbox/ephemeral/cache";
        assertEquals(1, storageEvents(log, mountPoint, "mount"), "one guest tmpfs for the pod, one VM");
        assertEquals(0, storageEvents(log, mountPoint, "unmount"), "no container removal unmounted it");
        assertTrue(log.stream().anyMatch(l -> l.path("method").asText().endsWith("CreateSandbox")
                && l.path("hostname").asText().equals(spec.name())), "CreateSandbox carries the pod's hostname");
        assertEquals(1, vmmsOf(pod.sandboxId()), "one VM for the pod");
        pod.remove();
    }

    @Test
    void aSecretUpdatedByKubeletsAtomicWriterIsSeenByTheContainer() {
        Pod pod = run(pod("secret")
                .withVolume(Volume.secret("creds", Map.of("token", "first")))
                .withContainer(Container.busybox("app", "sh", "-c", SLEEP).mount(VolumeMount.of("creds", "/etc/creds").asReadOnly())));
        assertEquals("first", pod.exec("app", "cat", "/etc/creds/token").requireSuccess().out());
        pod.updateVolume("creds", Map.of("token", "second"));
        assertEquals("second", Poll.until(() -> pod.exec("app", "cat", "/etc/creds/token").out(), "second", Duration.ofSeconds(30)),
                "the swapped ..data link shows the new timestamped directory");
        pod.remove();
    }

    @Test
    void withSandboxCgroupOnlyTheShimVmmAndVirtiofsdAreInThePodCgroup() throws IOException {
        Pod pod = run(pod("cgroup-only").withAnnotation("io.katacontainers.config.runtime.sandbox_cgroup_only", "true")
                .withContainer(Container.busybox("app", "sh", "-c", SLEEP)));
        String sandboxCgroup = podCgroups.path() + "/kata_" + pod.sandboxId();
        List<Long> pids = podProcesses(pod.sandboxId());
        assertEquals(3, pids.size(), "shim, VMM, virtiofsd: " + pids);
        for (long pid : pids) {
            assertEquals(sandboxCgroup, PodCgroups.memoryCgroupOf(pid), "process " + pid + " " + cmdline(pid));
        }
        pod.remove();
        assertTrue(PodCgroups.awaitGoneEverywhere(sandboxCgroup), "the sandbox cgroup is removed after RemovePodSandbox");
        assertTrue(PodCgroups.existsEverywhere(podCgroups.path()), "kubelet's pod cgroup is kubelet's");
    }

    @Test
    void byDefaultTheyAreInKatasOverheadCgroupAndOnlyVcpusInThePods() throws IOException {
        Pod pod = run(pod("overhead").withContainer(Container.busybox("app", "sh", "-c", SLEEP)));
        String sandboxCgroup = podCgroups.path() + "/kata_" + pod.sandboxId();
        String overhead = "/kata_overhead/" + pod.sandboxId();
        for (long pid : podProcesses(pod.sandboxId())) {
            assertEquals(overhead, PodCgroups.memoryCgroupOf(pid), "process " + pid + " " + cmdline(pid));
        }
        assertTrue(PodCgroups.existsEverywhere(sandboxCgroup), "the sandbox cgroup for the vCPU threads");
        pod.remove();
        assertTrue(PodCgroups.awaitGoneEverywhere(sandboxCgroup));
        assertTrue(PodCgroups.awaitGoneEverywhere(overhead));
    }

    @Test
    void tenPodsInARowGetOneShimAndOneVmEachAndLeaveNothing() throws IOException {
        for (int i = 0; i < 10; i++) {
            Pod pod = run(pod("row" + i).withContainer(Container.busybox("app", "sh", "-c", SLEEP)));
            String id = pod.sandboxId();
            assertEquals(1, vmmsOf(id), "one VM for pod " + i);
            assertEquals(1, daemonsOf(id), "one shim daemon for pod " + i);
            long shim = podProcesses(id).getFirst();
            pod.remove();
            ProcessHandle.of(shim).ifPresent(h -> h.onExit().orTimeout(15, java.util.concurrent.TimeUnit.SECONDS).join());
            assertFalse(Files.exists(node.stateDir().resolve(id)), "no state left for pod " + i);
            assertTrue(PodCgroups.awaitGoneEverywhere("/kata_overhead/" + id), "no cgroup left for pod " + i);
        }
    }

    // ------------------------------------------------------------------------------------------- helpers

    /** The testbed's JSON lines for the pod's VM ({@code <vm dir>/testbed.jsonl}). */
    private static List<JsonNode> testbedLog(String sandboxId) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(node.stateDir().resolve(sandboxId).resolve("testbed.jsonl"))) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    private static long storageEvents(List<JsonNode> log, String mountPoint, String action) {
        return log.stream().filter(l -> l.path("kind").asText().equals("storage")
                && l.path("mountPoint").asText().equals(mountPoint) && l.path("action").asText().equals(action)).count();
    }

    /** The shim daemon (the sandbox bundle's {@code shim.pid}), the VMM and virtiofsd (the sandbox state). */
    private static List<Long> podProcesses(String sandboxId) throws IOException {
        List<Long> pids = new ArrayList<>();
        pids.add(Long.parseLong(Files.readString(containerd.bundle("k8s.io", sandboxId).resolve("shim.pid")).trim()));
        JsonNode state = JSON.readTree(node.stateDir().resolve(sandboxId).resolve("sandbox.json").toFile());
        pids.add(state.path("vmmPid").asLong());
        state.path("virtiofsdPids").forEach(p -> pids.add(p.asLong()));
        return pids;
    }

    private static long vmmsOf(String sandboxId) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("")
                .contains(node.stateDir().resolve(sandboxId) + "/clh-api.sock")).count();
    }

    private static long daemonsOf(String sandboxId) {
        return ProcessHandle.allProcesses().filter(p -> {
            String c = p.info().commandLine().orElse("");
            return c.contains("dev.podvisor.shim.ShimMain") && c.contains(containerd.address().toString())
                    && c.contains(sandboxId) && !c.endsWith(" delete");
        }).count();
    }

    private static String cmdline(long pid) {
        return ProcessHandle.of(pid).flatMap(p -> p.info().commandLine()).orElse("?");
    }

}
