package dev.podvisor.it.cri;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/**
 * The part of a Kubernetes pod spec that {@link Kubelet} acts on. Build with {@link #named} and the
 * {@code with...} methods:
 *
 * <pre>{@code
 * PodSpec spec = PodSpec.named("web")
 *         .withVolume(Volume.memoryEmptyDir("cache", 64 << 20))
 *         .withInitContainer(Container.busybox("init", "sh", "-c", "echo hi > /cache/x").mount("cache", "/cache"))
 *         .withContainer(Container.busybox("app", "sleep", "3600").mount("cache", "/cache"));
 * }</pre>
 *
 * @param name             pod name (also the hostname)
 * @param namespace        Kubernetes namespace
 * @param uid              pod UID (a random UUID by default)
 * @param runtimeHandler   RuntimeClass handler: {@code kata} (Podvisor) or {@code runc}
 * @param hostNetwork      {@code hostNetwork: true} (CRI NamespaceMode NODE for the network)
 * @param memoryLimitBytes the pod's memory limit (sum of its containers'); 0: none (BestEffort)
 * @param cgroupParent     CRI {@code cgroup_parent}, as kubelet's cgroupfs driver names it
 *                         ({@code /kubepods/besteffort/pod<uid>}); null: none set (the caller owns any cgroup)
 * @param volumes          pod volumes
 * @param initContainers   init containers, run one by one to completion before the app containers
 * @param containers       app containers
 * @param annotations      pod annotations (passed on as sandbox annotations)
 */
public record PodSpec(String name, String namespace, String uid, String runtimeHandler, boolean hostNetwork,
                      long memoryLimitBytes, String cgroupParent, List<Volume> volumes,
                      List<Container> initContainers, List<Container> containers, Map<String, String> annotations) {

    /** Copies the collections and checks names are unique. */
    public PodSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(uid, "uid");
        Objects.requireNonNull(runtimeHandler, "runtimeHandler");
        volumes = List.copyOf(volumes);
        initContainers = List.copyOf(initContainers);
        containers = List.copyOf(containers);
        annotations = Map.copyOf(annotations);
        if (volumes.stream().map(Volume::name).distinct().count() != volumes.size()) {
            throw new IllegalArgumentException("pod " + name + ": volume names are not unique: " + volumes);
        }
    }

    /** @return a pod in namespace {@code default} with a random UID, runtime handler {@code kata}, nothing else */
    public static PodSpec named(String name) {
        return new PodSpec(name, "default", UUID.randomUUID().toString(), "kata", false, 0, null, List.of(),
                List.of(), List.of(), Map.of());
    }

    /** @return this pod with RuntimeClass handler {@code handler} */
    public PodSpec withRuntimeHandler(String handler) {
        return new PodSpec(name, namespace, uid, handler, hostNetwork, memoryLimitBytes, cgroupParent, volumes,
                initContainers, containers, annotations);
    }

    /** @return this pod with {@code hostNetwork} set */
    public PodSpec withHostNetwork(boolean host) {
        return new PodSpec(name, namespace, uid, runtimeHandler, host, memoryLimitBytes, cgroupParent, volumes,
                initContainers, containers, annotations);
    }

    /** @return this pod with a memory limit (bytes) */
    public PodSpec withMemoryLimit(long bytes) {
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, bytes, cgroupParent, volumes,
                initContainers, containers, annotations);
    }

    /** @return this pod with CRI {@code cgroup_parent} */
    public PodSpec withCgroupParent(String parent) {
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, memoryLimitBytes, parent, volumes,
                initContainers, containers, annotations);
    }

    /** @return this pod with one more volume */
    public PodSpec withVolume(Volume volume) {
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, memoryLimitBytes, cgroupParent,
                plus(volumes, volume), initContainers, containers, annotations);
    }

    /** @return this pod with one more init container */
    public PodSpec withInitContainer(Container container) {
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, memoryLimitBytes, cgroupParent,
                volumes, plus(initContainers, container), containers, annotations);
    }

    /** @return this pod with one more app container */
    public PodSpec withContainer(Container container) {
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, memoryLimitBytes, cgroupParent,
                volumes, initContainers, plus(containers, container), annotations);
    }

    /** @return this pod with one more annotation */
    public PodSpec withAnnotation(String key, String value) {
        Map<String, String> more = new LinkedHashMap<>(annotations);
        more.put(key, value);
        return new PodSpec(name, namespace, uid, runtimeHandler, hostNetwork, memoryLimitBytes, cgroupParent,
                volumes, initContainers, containers, more);
    }

    /**
     * @param volumeName a volume's name
     * @return the volume
     * @throws IllegalArgumentException when the pod has no such volume
     */
    public Volume volume(String volumeName) {
        return volumes.stream().filter(v -> v.name().equals(volumeName)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("pod " + name + ": no volume named '" + volumeName + "'"));
    }

    /**
     * @param containerName an init or app container's name
     * @return the container
     * @throws IllegalArgumentException when the pod has no such container
     */
    public Container container(String containerName) {
        return java.util.stream.Stream.concat(initContainers.stream(), containers.stream())
                .filter(c -> c.name().equals(containerName)).findFirst().orElseThrow(
                        () -> new IllegalArgumentException("pod " + name + ": no container named '" + containerName + "'"));
    }

    private static <T> List<T> plus(List<T> list, T item) {
        List<T> more = new ArrayList<>(list);
        more.add(item);
        return more;
    }
}
