package dev.podvisor.sandbox.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Kata's per-process gauges for one process (kata-containers: src/runtime/pkg/containerd-shim-v2/shim_metrics.go
 * for {@code kata_shim}, virtcontainers/metrics.go for {@code kata_hypervisor} and {@code kata_virtiofsd}):
 * {@code <prefix>_threads}, {@code <prefix>_fds}, {@code <prefix>_proc_status{item}},
 * {@code <prefix>_proc_stat{item}} and {@code <prefix>_io_stat{item}}. Values come from the reading taken by
 * the last {@link #refresh()}; an item missing from it (no process yet, process gone) reads NaN.
 */
final class ProcessMeters {

    private final Path proc;
    private final LongSupplier pid;
    private volatile ProcFacts facts = new ProcFacts(Map.of(), Map.of(), Map.of(), -1, -1);

    /**
     * @param prefix e.g. {@code kata_shim}
     * @param what   the process, for the help texts, e.g. {@code "Hypervisor"}
     * @param pid    the process's pid, or a value below 1 while there is none
     */
    ProcessMeters(MeterRegistry registry, Path proc, String prefix, String what, LongSupplier pid) {
        this.proc = proc;
        this.pid = pid;
        Gauge.builder(prefix + "_threads", this, m -> positive(m.facts.threads()))
                .description(what + " process threads.").register(registry);
        Gauge.builder(prefix + "_fds", this, m -> positive(m.facts.fds()))
                .description(what + " open FDs.").register(registry);
        items(registry, prefix + "_proc_status", what + " process status.", ProcFacts.STATUS_ITEMS, ProcFacts::status);
        items(registry, prefix + "_proc_stat", what + " process statistics.", ProcFacts.STAT_ITEMS, ProcFacts::stat);
        items(registry, prefix + "_io_stat", what + " process IO statistics.", ProcFacts.IO_ITEMS, ProcFacts::io);
    }

    private void items(MeterRegistry registry, String name, String help, List<String> items,
                       java.util.function.Function<ProcFacts, Map<String, Double>> part) {
        for (String item : items) {
            Gauge.builder(name, this, m -> part.apply(m.facts).getOrDefault(item, Double.NaN))
                    .description(help).tag("item", item).register(registry);
        }
    }

    /** Reads the process's {@code /proc} files again. */
    void refresh() {
        long p = pid.getAsLong();
        facts = p > 0 ? ProcFacts.read(proc, p) : new ProcFacts(Map.of(), Map.of(), Map.of(), -1, -1);
    }

    private static double positive(long value) {
        return value < 0 ? Double.NaN : value;
    }
}
