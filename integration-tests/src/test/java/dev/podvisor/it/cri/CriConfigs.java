package dev.podvisor.it.cri;

import dev.podvisor.it.cri.api.Cri;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The CRI configs kubelet sends for a pod and its containers (Kubernetes {@code pkg/kubelet/kuberuntime}:
 * {@code kuberuntime_sandbox.go} generatePodSandboxConfig, {@code kuberuntime_container.go} generateContainerConfig,
 * {@code labels.go}): metadata, the {@code io.kubernetes.*} labels and annotations, log paths, namespace
 * options (network POD, or NODE for hostNetwork; pid CONTAINER; ipc POD), BestEffort resources
 * ({@code cpu_shares 2}, {@code cpu_period 100000}, {@code oom_score_adj 1000}) unless a memory limit is set,
 * and the mounts (volumes, {@code /etc/hosts}, {@code /dev/termination-log}).
 */
final class CriConfigs {

    static final String POD_NAME = "io.kubernetes.pod.name";
    static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
    static final String POD_UID = "io.kubernetes.pod.uid";
    static final String CONTAINER_NAME = "io.kubernetes.container.name";
    static final String TERMINATION_LOG = "/dev/termination-log";

    private CriConfigs() {
    }

    /**
     * @param spec   the pod
     * @param logDir the pod's log directory ({@code <logs root>/<namespace>_<name>_<uid>})
     * @return kubelet's PodSandboxConfig (attempt 0)
     */
    static Cri.PodSandboxConfig sandbox(PodSpec spec, Path logDir) {
        Cri.LinuxPodSandboxConfig.Builder linux = Cri.LinuxPodSandboxConfig.newBuilder()
                .setSecurityContext(Cri.LinuxSandboxSecurityContext.newBuilder()
                        .setNamespaceOptions(namespaces(spec)));
        if (spec.cgroupParent() != null) {
            linux.setCgroupParent(spec.cgroupParent());
        }
        Cri.PodSandboxConfig.Builder b = Cri.PodSandboxConfig.newBuilder()
                .setMetadata(Cri.PodSandboxMetadata.newBuilder().setName(spec.name()).setUid(spec.uid())
                        .setNamespace(spec.namespace()).setAttempt(0));
        if (!spec.hostNetwork()) {
            b.setHostname(spec.name()); // kubelet leaves it empty for hostNetwork pods (they share the node's UTS)
        }
        return b.setLogDirectory(logDir.toString())
                .putAllLabels(podLabels(spec))
                .putAnnotations("kubernetes.io/config.source", "api")
                .putAnnotations("kubernetes.io/config.seen", java.time.Instant.now().toString())
                .putAllAnnotations(spec.annotations())
                .setLinux(linux)
                .build();
    }

    /**
     * @param spec      the pod
     * @param container the container
     * @param attempt   its restart count (0 first)
     * @param mounts    CRI mounts (see {@link #mounts})
     * @return kubelet's ContainerConfig
     */
    static Cri.ContainerConfig container(PodSpec spec, Container container, int attempt, List<Cri.Mount> mounts) {
        Cri.LinuxContainerResources.Builder resources = Cri.LinuxContainerResources.newBuilder()
                .setCpuPeriod(100_000)
                .setCpuShares(2)
                .setOomScoreAdj(spec.memoryLimitBytes() > 0 ? 999 : 1000);
        if (spec.memoryLimitBytes() > 0) {
            resources.setMemoryLimitInBytes(spec.memoryLimitBytes());
        }
        Cri.ContainerConfig.Builder b = Cri.ContainerConfig.newBuilder()
                .setMetadata(Cri.ContainerMetadata.newBuilder().setName(container.name()).setAttempt(attempt))
                .setImage(Cri.ImageSpec.newBuilder().setImage(container.image()))
                .addAllCommand(container.command())
                .addAllMounts(mounts)
                .putAllLabels(podLabels(spec))
                .putLabels(CONTAINER_NAME, container.name())
                .putAnnotations("io.kubernetes.container.hash", Integer.toHexString(container.hashCode()))
                .putAnnotations("io.kubernetes.container.restartCount", Integer.toString(attempt))
                .putAnnotations("io.kubernetes.container.terminationMessagePath", TERMINATION_LOG)
                .putAnnotations("io.kubernetes.container.terminationMessagePolicy", "File")
                .putAnnotations("io.kubernetes.pod.terminationGracePeriod", "30")
                .setLogPath(logPath(container.name(), attempt))
                .setLinux(Cri.LinuxContainerConfig.newBuilder()
                        .setResources(resources)
                        .setSecurityContext(Cri.LinuxContainerSecurityContext.newBuilder()
                                .setNamespaceOptions(namespaces(spec))));
        container.env().forEach((k, v) -> b.addEnvs(Cri.KeyValue.newBuilder().setKey(k).setValue(com.google.protobuf.ByteString.copyFromUtf8(v))));
        return b.build();
    }

    /**
     * @return one CRI mount (propagation private, no SELinux relabel), as kubelet makes for a volume mount
     */
    static Cri.Mount mount(String containerPath, Path hostPath, boolean readOnly) {
        return Cri.Mount.newBuilder().setContainerPath(containerPath).setHostPath(hostPath.toString())
                .setReadonly(readOnly).setPropagation(Cri.MountPropagation.PROPAGATION_PRIVATE).build();
    }

    /** @return the container's log path relative to the pod's log directory: {@code <name>/<attempt>.log} */
    static String logPath(String container, int attempt) {
        return container + "/" + attempt + ".log";
    }

    private static Map<String, String> podLabels(PodSpec spec) {
        return Map.of(POD_NAME, spec.name(), POD_NAMESPACE, spec.namespace(), POD_UID, spec.uid());
    }

    private static Cri.NamespaceOption namespaces(PodSpec spec) {
        return Cri.NamespaceOption.newBuilder()
                .setNetwork(spec.hostNetwork() ? Cri.NamespaceMode.NODE : Cri.NamespaceMode.POD)
                .setPid(Cri.NamespaceMode.CONTAINER)
                .setIpc(Cri.NamespaceMode.POD)
                .build();
    }
}
