package dev.podvisor.storage.plan;

import dev.podvisor.storage.spec.OciSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the planner decides from, except the host facts.
 *
 * @param settings           configuration
 * @param sandboxId          the sandbox (pod) id
 * @param containerId        the container id (equals {@code sandboxId} for the sandbox container)
 * @param isSandboxContainer whether this is the sandbox (pause) container; sandbox-wide work
 *                           ({@code sandbox_bind_mounts}) is planned only for it
 * @param podAnnotations     the pod's annotations as containerd passes them ({@code pod_annotations} allow-list);
 *                           read: {@code io.podvisor.volumes},
 *                           {@code io.katacontainers.config.hypervisor.extra_virtiofs},
 *                           {@code io.katacontainers.config.runtime.special_volumes},
 *                           {@code io.katacontainers.config.runtime.sandbox_bind_mounts}
 * @param spec               the container's config.json
 * @param rootfsMounts       the CreateTaskRequest rootfs mounts; empty means the bundle's rootfs is already mounted
 * @param bundle             absolute bundle directory
 * @param podSpecialVolumes  container path to the device other containers of the pod already send it to
 *                           ({@code special_volumes}); a container that disagrees is refused. Empty for the
 *                           first container, and by the shorter constructor
 */
public record PlanInput(
        PlannerSettings settings,
        String sandboxId,
        String containerId,
        boolean isSandboxContainer,
        Map<String, String> podAnnotations,
        OciSpec spec,
        List<RootfsMount> rootfsMounts,
        Path bundle,
        Map<String, SpecialVolumeClaim> podSpecialVolumes) {

    /** An input with no special volume claimed in the pod yet. */
    public PlanInput(PlannerSettings settings, String sandboxId, String containerId, boolean isSandboxContainer,
                     Map<String, String> podAnnotations, OciSpec spec, List<RootfsMount> rootfsMounts, Path bundle) {
        this(settings, sandboxId, containerId, isSandboxContainer, podAnnotations, spec, rootfsMounts, bundle, Map.of());
    }

    /** This input with the special volumes the pod's other containers claimed. */
    public PlanInput withPodSpecialVolumes(Map<String, SpecialVolumeClaim> claims) {
        return new PlanInput(settings, sandboxId, containerId, isSandboxContainer, podAnnotations, spec, rootfsMounts,
                bundle, claims);
    }

    public PlanInput {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(sandboxId, "sandboxId");
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(bundle, "bundle");
        podAnnotations = podAnnotations == null ? Map.of() : Map.copyOf(podAnnotations);
        rootfsMounts = rootfsMounts == null ? List.of() : List.copyOf(rootfsMounts);
        podSpecialVolumes = podSpecialVolumes == null ? Map.of() : Map.copyOf(podSpecialVolumes);
        if (!bundle.isAbsolute()) {
            throw new IllegalArgumentException("bundle '" + bundle + "': not absolute");
        }
        for (String id : List.of(sandboxId, containerId)) {
            if (id.isEmpty() || id.contains("/") || id.equals(".") || id.equals("..")) {
                throw new IllegalArgumentException("id '" + id + "': empty or not a single path component");
            }
        }
    }
}
