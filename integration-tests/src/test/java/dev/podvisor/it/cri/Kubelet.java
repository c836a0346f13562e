package dev.podvisor.it.cri;

import dev.podvisor.it.cri.api.Cri;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A kubelet stand-in for tests: lays pods out on the host as kubelet does ({@link PodDir}) and drives containerd's
 * CRI in kubelet's order (Kubernetes {@code pkg/kubelet/kuberuntime/kuberuntime_manager.go} SyncPod):
 * <ol>
 *   <li>volumes set up under {@code <root>/pods/<uid>}, the log directory {@code <root>/logs/<ns>_<name>_<uid>};</li>
 *   <li>RunPodSandbox (runtime handler of the spec), PodSandboxStatus for the pod IP, {@code etc-hosts};</li>
 *   <li>each init container: CreateContainer, StartContainer, wait for it to exit (0, else the pod fails),
 *       RemoveContainer;</li>
 *   <li>each app container: CreateContainer, StartContainer.</li>
 * </ol>
 * Teardown ({@link Pod#remove()}): StopContainer of each container, StopPodSandbox, RemoveContainer of each,
 * RemovePodSandbox, then the volumes are unmounted and the pod and log dirs deleted.
 *
 * <pre>{@code
 * try (CriClient cri = CriClient.connect(containerd.address()); Kubelet kubelet = Kubelet.create(cri, tempDir)) {
 *     Pod pod = kubelet.run(PodSpec.named("web").withContainer(Container.busybox("app", "sleep", "3600")));
 *     assertEquals("hi", pod.exec("app", "echo", "hi").out());
 *     pod.remove();
 * } // close() removes any pod still there
 * }</pre>
 */
public final class Kubelet implements AutoCloseable {

    private final CriClient cri;
    private final Path root;
    private final List<Pod> pods = new ArrayList<>();

    private Kubelet(CriClient cri, Path root) {
        this.cri = cri;
        this.root = root;
    }

    /**
     * @param cri  a connected client
     * @param root a private directory standing in for {@code /var/lib/kubelet} and {@code /var/log}: pods go to
     *             {@code root/pods}, logs to {@code root/logs}
     * @return the kubelet
     */
    public static Kubelet create(CriClient cri, Path root) {
        try {
            Files.createDirectories(root.resolve("pods"));
            Files.createDirectories(root.resolve("logs"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Kubelet(cri, root);
    }

    /** @return the client this kubelet drives */
    public CriClient cri() {
        return cri;
    }

    /**
     * Runs a pod to the point where its app containers are started.
     *
     * @param spec the pod
     * @return the running pod
     * @throws io.grpc.StatusRuntimeException when a CRI call fails (e.g. RunPodSandbox refused); whatever was
     *                                        made for the pod is removed first
     * @throws IllegalStateException when an init container exits non-zero (its log lines in the message)
     */
    public Pod run(PodSpec spec) {
        Path logDir = root.resolve("logs").resolve(spec.namespace() + "_" + spec.name() + "_" + spec.uid());
        PodDir dir = PodDir.create(root.resolve("pods"), spec);
        Pod pod = new Pod(cri, spec, dir, logDir);
        try {
            Files.createDirectories(logDir);
            Cri.PodSandboxConfig config = CriConfigs.sandbox(spec, logDir);
            String id = cri.runtime().runPodSandbox(Cri.RunPodSandboxRequest.newBuilder().setConfig(config)
                    .setRuntimeHandler(spec.runtimeHandler()).build()).getPodSandboxId();
            pod.sandboxCreated(id, config);
            synchronized (pods) {
                pods.add(pod);
            }
            for (Container c : spec.initContainers()) {
                pod.runToCompletion(c);
            }
            for (Container c : spec.containers()) {
                pod.start(c, 0);
            }
            return pod;
        } catch (IOException e) {
            pod.removeAfter(e);
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            pod.removeAfter(e);
            throw e;
        }
    }

    /** Removes every pod still present ({@link Pod#remove()}), in the order they were run. */
    @Override
    public void close() {
        List<Pod> left;
        synchronized (pods) {
            left = List.copyOf(pods);
            pods.clear();
        }
        RuntimeException failure = null;
        for (Pod p : left) {
            try {
                p.remove();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
