package dev.podvisor.it;

import dev.podvisor.it.cri.Container;
import dev.podvisor.it.cri.ExecResult;
import dev.podvisor.it.cri.CriClient;
import dev.podvisor.it.cri.Kubelet;
import dev.podvisor.it.cri.Pod;
import dev.podvisor.it.cri.PodSpec;
import dev.podvisor.it.cri.Volume;
import dev.podvisor.it.cri.VolumeMount;
import dev.podvisor.it.cri.api.Cri;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pods through containerd's CRI plugin as kubelet drives it ({@link Kubelet}), with the kata runtime (Podvisor on
 * the testbed) and, as a control that the driver itself is right, runc. Each pod has a disk emptyDir written by
 * an init container, a memory emptyDir, a secret and a subPath; the tests read them through ExecSync, check the
 * container log, restart a killed container, and after removal check that nothing of the pod is left.
 */
class CriPodIT {

    @TempDir
    static Path classDir;
    static CriNode node;
    static CriClient cri;

    @TempDir
    Path kubeletRoot;
    Kubelet kubelet;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeAll
    static void startNode() {
        node = CriNode.start(classDir, PrivateContainerd.builder().cni(true));
        cri = node.cri();
    }

    @AfterAll
    static void stopNode() {
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
    }

    @AfterEach
    void nothingLeftBehind() {
        kubelet.close();
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
        Leftovers.assertNothingNewSince(before, markers);
        assertEquals(0, cri.runtime().listPodSandbox(Cri.ListPodSandboxRequest.getDefaultInstance()).getItemsCount(),
                "no sandbox left in containerd");
        assertEquals(0, cri.runtime().listContainers(Cri.ListContainersRequest.getDefaultInstance()).getContainersCount(),
                "no container left in containerd");
    }

    private static PodSpec podWithVolumes(String handler) {
        String app = "echo app started; cat /scratch/init.txt; exec sleep 2147483647";
        return PodSpec.named("cri-" + handler + "-" + Long.toHexString(System.nanoTime() & 0xffffff))
                .withRuntimeHandler(handler)
                .withVolume(Volume.emptyDir("scratch"))
                .withVolume(Volume.memoryEmptyDir("cache", 16 << 20))
                .withVolume(Volume.secret("creds", Map.of("token", "s3cret")))
                .withInitContainer(Container.busybox("init", "sh", "-c",
                        "echo from-init > /scratch/init.txt; mkdir -p /scratch/sub; echo in-sub > /scratch/sub/f")
                        .mount("scratch", "/scratch"))
                .withContainer(Container.busybox("app", "sh", "-c", app)
                        .mount("scratch", "/scratch")
                        .mount("cache", "/cache")
                        .mount(VolumeMount.of("creds", "/etc/creds").asReadOnly())
                        .mount(VolumeMount.subPath("scratch", "/sub", "sub"))
                        .env("GREETING", "hello-cri"));
    }

    private void track(Pod pod) {
        markers.add(pod.sandboxId());
        markers.add(pod.containerId("app"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"kata", "runc"})
    void podRunsExecsLogsAndIsRemovedWithoutLeftovers(String handler) {
        Pod pod = kubelet.run(podWithVolumes(handler));
        track(pod);

        assertEquals(Cri.PodSandboxState.SANDBOX_READY, pod.sandboxStatus().getState());
        assertFalse(pod.ip().isEmpty(), "the pod has an IP on the CNI bridge");
        assertEquals(Cri.ContainerState.CONTAINER_RUNNING, pod.status("app").getState());

        assertEquals("hello-cri", pod.exec("app", "sh", "-c", "echo $GREETING").requireSuccess().out());
        assertEquals("from-init", pod.exec("app", "cat", "/scratch/init.txt").requireSuccess().out(),
                "the init container ran to completion before the app container, on the same emptyDir");
        assertEquals("s3cret", pod.exec("app", "cat", "/etc/creds/token").requireSuccess().out());
        assertEquals("in-sub", pod.exec("app", "cat", "/sub/f").requireSuccess().out(), "subPath");
        assertNotEquals(0, pod.exec("app", "sh", "-c", "echo x > /etc/creds/new").exitCode(), "secret mount is read-only");
        assertEquals("written", pod.exec("app", "sh", "-c", "echo written > /cache/f; cat /cache/f").requireSuccess().out());
        ExecResult failing = pod.exec("app", "sh", "-c", "echo oops >&2; exit 3");
        assertEquals(3, failing.exitCode());
        assertEquals("oops", failing.stderr().strip());
        assertTrue(pod.exec("app", "cat", "/etc/hosts").requireSuccess().stdout().contains(pod.ip() + "\t" + pod.spec().name()),
                "kubelet's etc-hosts is the container's /etc/hosts");

        List<String> log = pod.awaitLogLine("app", "app started", Duration.ofSeconds(30));
        assertTrue(log.contains("from-init"), log.toString());
        assertTrue(Files.isRegularFile(pod.logDir().resolve("app/0.log")));

        pod.remove();
        assertFalse(Files.exists(pod.dir()), "pod dir removed");
    }

    @ParameterizedTest
    @ValueSource(strings = {"kata", "runc"})
    void killedContainerIsRemovedAndRecreatedWithTheNextRestartCount(String handler) {
        Pod pod = kubelet.run(podWithVolumes(handler));
        track(pod);
        String first = pod.containerId("app");

        Cri.ContainerStatus killed = pod.kill("app");
        assertEquals(Cri.ContainerState.CONTAINER_EXITED, killed.getState());
        assertEquals(137, killed.getExitCode(), "SIGKILL");

        String second = pod.restart("app");
        markers.add(second);
        assertNotEquals(first, second);
        assertEquals(1, pod.restartCount("app"));
        assertEquals(Cri.ContainerState.CONTAINER_RUNNING, pod.status("app").getState());
        assertEquals("1", pod.status("app").getAnnotationsOrThrow("io.kubernetes.container.restartCount"));
        assertEquals("from-init", pod.exec("app", "cat", "/scratch/init.txt").requireSuccess().out(),
                "a disk emptyDir outlives the container");
        pod.awaitLogLine("app", "app started", Duration.ofSeconds(30));
        assertTrue(Files.isRegularFile(pod.logDir().resolve("app/1.log")), "the restart logs to <name>/1.log");
        assertEquals(1, cri.runtime().listContainers(Cri.ListContainersRequest.getDefaultInstance()).getContainersCount(),
                "the crashed container was removed");
    }
}
