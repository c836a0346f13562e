package dev.podvisor.storage.plan;

import java.util.Map;

/**
 * What a container is to its pod, as far as storage is concerned. Pod annotations reach every container of a
 * pod, the sandbox (pause) container's included (containerd's {@code pod_annotations}), but only workload
 * containers have the mounts a {@code special_volumes} entry names.
 */
enum PodRole {
    /** A container with no pod annotations ({@code ctr run}, nerdctl): its own VM, its mounts are checked. */
    SINGLE_CONTAINER,
    /** A pod's sandbox (pause) container: sandbox-wide storage; workload mounts are not its own. */
    POD_SANDBOX,
    /** A workload container of a pod. */
    POD_CONTAINER;

    /**
     * The container-type annotations and the sandbox value each runtime front end sets (containerd CRI, CRI-O,
     * dockershim), as Kata reads them (src/runtime/pkg/oci/utils.go, src/libs/kata-types/src/k8s.rs).
     */
    private static final Map<String, String> SANDBOX_TYPE = Map.of(
            "io.kubernetes.cri.container-type", "sandbox",
            "io.kubernetes.cri-o.ContainerType", "sandbox",
            "io.kubernetes.docker.type", "podsandbox");

    /** The role of the container {@code input} plans. */
    static PodRole of(PlanInput input) {
        if (!input.isSandboxContainer()) {
            return POD_CONTAINER;
        }
        Map<String, String> annotations = input.podAnnotations();
        for (Map.Entry<String, String> e : SANDBOX_TYPE.entrySet()) {
            if (e.getValue().equals(annotations.get(e.getKey()))) {
                return POD_SANDBOX;
            }
        }
        return SINGLE_CONTAINER;
    }
}
