package dev.podvisor.sandbox.metrics;

import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.storage.plan.MountDecision;
import dev.podvisor.storage.plan.MountKind;
import dev.podvisor.storage.plan.StoragePlan;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.pause.NoPauseDetector;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Every metric one shim (one pod) serves, in one Micrometer Prometheus registry, with Kata's names where Kata
 * has them (kata-containers: src/runtime/pkg/containerd-shim-v2/shim_metrics.go, virtcontainers/metrics.go):
 * <ul>
 *   <li>{@code kata_shim_rpc_durations_histogram_milliseconds{action}}: Task API calls (action = method, lower
 *       case), buckets 1, 2, 4 ... 512 ms as Kata's;</li>
 *   <li>{@code kata_shim_agent_rpc_durations_histogram_milliseconds{action}}: agent calls;</li>
 *   <li>{@code kata_shim_*}, {@code kata_hypervisor_*}, {@code kata_virtiofsd_*}: threads, fds, proc_status,
 *       proc_stat, io_stat of the shim, the VMM and the kataShared virtiofsd, read from /proc at each scrape;</li>
 *   <li>the agent's own metrics ({@code kata_agent_*}) from its GetMetrics call, when it answers it;</li>
 *   <li>Podvisor's planner: {@code podvisor_planner_mounts_total{kind,rule}},
 *       {@code podvisor_planner_rootfs_total{kind,rule}}, {@code podvisor_planner_plan_errors_total{rule}},
 *       {@code podvisor_guest_tmpfs_bytes}, {@code podvisor_device_hotplug_duration_seconds{device}},
 *       {@code podvisor_device_unplug_errors_total{device}}.</li>
 * </ul>
 * Every series carries the pod's CRI labels ({@code cri_uid}, {@code cri_name}, {@code cri_namespace}) when
 * the sandbox's annotations name them. No thread is started (the pause detector is off); all methods are
 * thread-safe.
 */
public final class PodMetrics {

    /** CRI annotations (containerd pkg/cri/annotations) → the labels kata-monitor gives them. */
    static final Map<String, String> CRI_LABELS = Map.of(
            "io.kubernetes.cri.sandbox-uid", "cri_uid",
            "io.kubernetes.cri.sandbox-name", "cri_name",
            "io.kubernetes.cri.sandbox-namespace", "cri_namespace");

    private static final double[] RPC_BUCKETS_MS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

    private final PrometheusMeterRegistry registry;
    private final Map<String, String> labels;
    private final List<ProcessMeters> processes = new ArrayList<>();
    private final Map<String, Long> tmpfsBytes = new ConcurrentHashMap<>();
    private final Map<String, DistributionSummary> rpcSummaries = new ConcurrentHashMap<>();
    private final List<Consumer<SandboxProbe>> bootListeners = new CopyOnWriteArrayList<>();
    private volatile SandboxProbe probe;
    private volatile boolean agentAnswersMetrics = true;

    private PodMetrics(Map<String, String> labels, Path proc) {
        this.labels = Map.copyOf(labels);
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().pauseDetector(new NoPauseDetector());
        labels.forEach((k, v) -> registry.config().commonTags(k, v));
        long self = ProcessHandle.current().pid();
        processes.add(new ProcessMeters(registry, proc, "kata_shim", "Kata containerd shim v2", () -> self));
        processes.add(new ProcessMeters(registry, proc, "kata_hypervisor", "Hypervisor",
                () -> probe == null ? 0 : probe.vmmPid().getAsLong()));
        processes.add(new ProcessMeters(registry, proc, "kata_virtiofsd", "Virtiofsd",
                () -> probe == null ? 0 : probe.virtiofsdPid().getAsLong()));
        Gauge.builder("podvisor_guest_tmpfs_bytes", tmpfsBytes, m -> m.values().stream().mapToLong(Long::longValue).sum())
                .description("Bytes of guest tmpfs (emptyDir medium Memory) planned for the pod's live containers.")
                .register(registry);
    }

    /**
     * @param annotations the sandbox container's OCI annotations (the CRI labels come from them)
     * @return metrics for one pod, reading processes under {@code /proc}
     */
    public static PodMetrics forSandbox(Map<String, String> annotations) {
        return new PodMetrics(criLabels(annotations), Path.of("/proc"));
    }

    /** One shared instance for code paths whose metrics nobody serves (created on first use). */
    public static PodMetrics unobserved() {
        return Unobserved.INSTANCE;
    }

    private static final class Unobserved {
        static final PodMetrics INSTANCE = new PodMetrics(Map.of(), Path.of("/proc"));
    }

    /** For tests: explicit labels and a fake {@code /proc}. */
    static PodMetrics of(Map<String, String> labels, Path proc) {
        return new PodMetrics(labels, proc);
    }

    /** The CRI labels named by {@code annotations}, in {@code cri_uid, cri_name, cri_namespace} order. */
    public static Map<String, String> criLabels(Map<String, String> annotations) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String annotation : List.of("io.kubernetes.cri.sandbox-uid", "io.kubernetes.cri.sandbox-name",
                "io.kubernetes.cri.sandbox-namespace")) {
            String value = annotations.get(annotation);
            if (value != null && !value.isEmpty()) {
                out.put(CRI_LABELS.get(annotation), value);
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ RPCs

    /** One Task API call answered after {@code nanos}. */
    public void taskRpc(String method, long nanos) {
        rpcSummary("kata_shim_rpc_durations_histogram_milliseconds", method).record(nanos / 1e6);
    }

    /** One agent call answered after {@code nanos}. */
    public void agentRpc(String method, long nanos) {
        rpcSummary("kata_shim_agent_rpc_durations_histogram_milliseconds", method).record(nanos / 1e6);
    }

    private DistributionSummary rpcSummary(String name, String method) {
        // cached: building the meter id (tags, sorting, registry lookup) on every call costs more than recording
        return rpcSummaries.computeIfAbsent(name + '\n' + method, k -> newRpcSummary(name, method));
    }

    private DistributionSummary newRpcSummary(String name, String method) {
        return DistributionSummary.builder(name).description("RPC latency distributions.")
                .tag("action", method.toLowerCase(Locale.ROOT)).serviceLevelObjectives(RPC_BUCKETS_MS)
                .register(registry);
    }

    // ------------------------------------------------------------------------------------------ planner

    /**
     * A container's plan: one count per mount decision and for its rootfs; its guest tmpfs bytes (guest-tmpfs
     * volumes, not the sandbox's {@code /dev/shm}).
     */
    public void planned(StoragePlan plan) {
        long tmpfs = 0;
        for (MountDecision decision : plan.mounts()) {
            Counter.builder("podvisor_planner_mounts").description("Mounts planned, by decision kind and rule.")
                    .tag("kind", decision.kind().wireName()).tag("rule", decision.rule()).register(registry).increment();
            // /dev/shm is the sandbox's one tmpfs, shared by its containers: not a per-container volume
            if (decision.kind() == MountKind.GUEST_TMPFS && !decision.rule().equals("dev-shm")) {
                tmpfs += decision.sizeBytes();
            }
        }
        Counter.builder("podvisor_planner_rootfs").description("Container root filesystems planned, by kind and rule.")
                .tag("kind", plan.rootfs().kind().wireName()).tag("rule", plan.rootfs().rule()).register(registry)
                .increment();
        tmpfsBytes.put(plan.containerId(), tmpfs);
    }

    /** A plan the planner refused; {@code rule} is the deciding rule's id, or where the input was refused. */
    public void planFailed(String rule) {
        Counter.builder("podvisor_planner_plan_errors").description("Plans refused, by the rule that refused them.")
                .tag("rule", rule).register(registry).increment();
    }

    /** The container's storage was released: its guest tmpfs no longer counts. */
    public void released(String containerId) {
        tmpfsBytes.remove(containerId);
    }

    /** A device hot-plug ({@code device}: {@code disk}) that took {@code duration}. */
    public void hotplugged(String device, Duration duration) {
        Timer.builder("podvisor_device_hotplug_duration").description("Device hot-plug latency (vm.add-disk).")
                .tag("device", device)
                .serviceLevelObjectives(Duration.ofMillis(10), Duration.ofMillis(50), Duration.ofMillis(100),
                        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5))
                .register(registry).record(duration);
    }

    /**
     * A hot-unplug ({@code vm.remove-device}) of a {@code device} ({@code disk}) that failed; the container's
     * delete went on regardless. Counted as {@code podvisor_device_unplug_errors_total{device}}.
     */
    public void unplugFailed(String device) {
        Counter.builder("podvisor_device_unplug_errors")
                .description("Device hot-unplugs (vm.remove-device) that failed; the device stays until the VM stops.")
                .tag("device", device).register(registry).increment();
    }

    // ------------------------------------------------------------------------------------------ sandbox

    /** The VM is up and the agent answers: process and agent metrics start; boot listeners are told. */
    public void sandboxBooted(SandboxProbe booted) {
        this.probe = booted;
        for (Consumer<SandboxProbe> listener : bootListeners) {
            listener.accept(booted);
        }
    }

    /** Calls {@code listener} when the sandbox has booted (the shim starts its management socket then). */
    public void onSandboxBooted(Consumer<SandboxProbe> listener) {
        bootListeners.add(listener);
    }

    /** The booted sandbox, or null before boot. */
    public SandboxProbe probe() {
        return probe;
    }

    /**
     * The Prometheus text of every metric: /proc is read again, then the registry is rendered, then the
     * agent's metrics are appended (with the CRI labels; its {@code go_} and {@code process_} families renamed
     * {@code kata_agent_*}, as Kata does). An agent that answers GetMetrics with UNIMPLEMENTED or NOT_FOUND is
     * not asked again; other agent errors leave its metrics out of this scrape.
     */
    public String scrape() {
        for (ProcessMeters process : processes) {
            process.refresh();
        }
        String own = registry.scrape();
        String agent = agentMetrics();
        if (agent.isBlank()) {
            return own;
        }
        return new PromText().add(own, Map.of())
                .add(agent, labels, name -> name.startsWith("go_") || name.startsWith("process_") ? "kata_agent_" + name : name)
                .render();
    }

    private String agentMetrics() {
        SandboxProbe booted = probe;
        if (booted == null || !agentAnswersMetrics) {
            return "";
        }
        try {
            return booted.agentMetrics().get();
        } catch (TtrpcException e) {
            if (e.code() == Code.UNIMPLEMENTED || e.code() == Code.NOT_FOUND) {
                agentAnswersMetrics = false;
            }
            return "";
        } catch (RuntimeException e) {
            return "";
        }
    }
}
