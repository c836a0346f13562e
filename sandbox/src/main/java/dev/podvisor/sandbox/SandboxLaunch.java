package dev.podvisor.sandbox;

import com.google.protobuf.Any;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What the shim daemon knows when it boots a pod's VM.
 *
 * @param sandboxId      the sandbox id: the pod sandbox container's id, or the single container's id
 * @param namespace      the containerd namespace
 * @param bundle         the sandbox container's bundle (config.json, rootfs/)
 * @param env            the shim's environment ({@code KATA_CONF_FILE} selects a configuration)
 * @param runtimeOptions CreateTaskRequest.options (CRI {@code runtimeoptions.v1.Options} carries
 *                       {@code config_path}); the default instance when absent
 * @param log            the shim's log
 * @param oomListener    called with a container id for each OOM event the guest reports
 * @param metrics        the pod's metrics (the sandbox reports its boot, plans and hot-plugs there)
 */
public record SandboxLaunch(String sandboxId, String namespace, Path bundle, Map<String, String> env,
                            Any runtimeOptions, LogfmtLog log, Consumer<String> oomListener, PodMetrics metrics) {

    /** A launch whose metrics nobody serves. */
    public SandboxLaunch(String sandboxId, String namespace, Path bundle, Map<String, String> env,
                         Any runtimeOptions, LogfmtLog log, Consumer<String> oomListener) {
        this(sandboxId, namespace, bundle, env, runtimeOptions, log, oomListener, PodMetrics.unobserved());
    }
}
