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
 */
public record PlanInput(
        PlannerSettings settings,
        String sandboxId,
        String containerId,
        boolean isSandboxContainer,
        Map<String, String> podAnnotations,
        OciSpec spec,
        List<RootfsMount> rootfsMounts,
        Path bundle) {

    public PlanInput {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(sandboxId, "sandboxId");
        Objects.requireNonNull(containerId, "containerId");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(bundle, "bundle");
        podAnnotations = podAnnotations == null ? Map.of() : Map.copyOf(podAnnotations);
        rootfsMounts = rootfsMounts == null ? List.of() : List.copyOf(rootfsMounts);
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
