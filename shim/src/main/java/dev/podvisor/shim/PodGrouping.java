package dev.podvisor.shim;

import java.util.Map;

/**
 * Which shim serves a container, decided from the OCI annotations in the bundle's config.json, the way Kata
 * does (kata-containers: src/runtime/pkg/oci/utils.go, src/libs/kata-types/src/k8s.rs). containerd never
 * groups containers itself: a pod's sandbox (pause) container gets a new shim and VM, and every other
 * container of the pod is served by the shim of its sandbox.
 */
public final class PodGrouping {

    /** containerd CRI: {@code sandbox} or {@code container}. */
    public static final String CRI_CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    /** containerd CRI: the pod sandbox id. */
    public static final String CRI_SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    /** CRI-O: {@code sandbox} or {@code container}. */
    public static final String CRIO_CONTAINER_TYPE = "io.kubernetes.cri-o.ContainerType";
    /** CRI-O: the pod sandbox id. */
    public static final String CRIO_SANDBOX_ID = "io.kubernetes.cri-o.SandboxID";
    /** dockershim: {@code podsandbox} or {@code container}. */
    public static final String DOCKER_TYPE = "io.kubernetes.docker.type";
    /** dockershim: the pod sandbox id. */
    public static final String DOCKER_SANDBOX_ID = "io.kubernetes.sandbox.id";

    private PodGrouping() {
    }

    /** What a container is for the shim. */
    public enum ContainerKind {
        /** The pod's sandbox (pause) container: a new shim and a new VM. */
        POD_SANDBOX,
        /** A container of an existing pod: served by the sandbox's shim, in the sandbox's VM. */
        POD_CONTAINER,
        /** No pod annotations ({@code ctr run}, nerdctl): its own shim and its own VM. */
        SINGLE_CONTAINER
    }

    /**
     * The decision for one container.
     *
     * @param kind      what the container is
     * @param sandboxId the id of the shim/VM that serves it: the pod sandbox id, or the container's own id
     */
    public record Grouping(ContainerKind kind, String sandboxId) {
    }

    /**
     * Classifies a container from its annotations.
     *
     * @param containerId the task id containerd passed ({@code -id})
     * @param annotations the OCI spec's annotations
     * @throws IllegalArgumentException when a pod container names no sandbox id
     */
    public static Grouping classify(String containerId, Map<String, String> annotations) {
        String type = firstOf(annotations, CRI_CONTAINER_TYPE, CRIO_CONTAINER_TYPE, DOCKER_TYPE);
        if (type == null) {
            return new Grouping(ContainerKind.SINGLE_CONTAINER, containerId);
        }
        return switch (type) {
            case "sandbox", "podsandbox" -> new Grouping(ContainerKind.POD_SANDBOX, containerId);
            case "container" -> {
                String sandboxId = firstOf(annotations, CRI_SANDBOX_ID, CRIO_SANDBOX_ID, DOCKER_SANDBOX_ID);
                if (sandboxId == null || sandboxId.isEmpty()) {
                    throw new IllegalArgumentException("annotation " + CRI_SANDBOX_ID
                            + ": missing for container " + containerId + " of type 'container'");
                }
                yield new Grouping(ContainerKind.POD_CONTAINER, sandboxId);
            }
            default -> throw new IllegalArgumentException("annotation " + CRI_CONTAINER_TYPE + " = '" + type
                    + "': expected 'sandbox' or 'container'");
        };
    }

    private static String firstOf(Map<String, String> annotations, String... keys) {
        for (String key : keys) {
            String value = annotations.get(key);
            if (value != null) {
                return value;
            }
        }
        return null;
    }
}
