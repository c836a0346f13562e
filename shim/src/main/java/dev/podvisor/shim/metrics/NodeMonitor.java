package dev.podvisor.shim.metrics;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PromText;
import dev.podvisor.sandbox.metrics.SandboxProbe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The node's view over every shim, as kata-monitor gives it (kata-containers: src/runtime/pkg/kata-monitor):
 * finds the shims by their management sockets ({@code <management_dir>/<sandbox id>/shim-monitor.sock}),
 * scrapes their {@code /metrics} concurrently with a deadline each, adds {@code sandbox_id} to every sample
 * and serves the union, plus its own {@code kata_monitor_*} counters. A shim that refuses, dies mid-answer or
 * misses its deadline is left out of that answer (and counted in {@code kata_monitor_scrape_failed_count});
 * it never fails the answer.
 *
 * <p>Paths: {@code /metrics} (all pods; {@code ?sandbox=<id>} one pod), {@code /sandboxes} (one id a line),
 * {@code /agent-url?sandbox=<id>} (the shim's answer).
 */
public final class NodeMonitor {

    private final Path managementDir;
    private final Duration scrapeTimeout;
    private final LogfmtLog log;
    private final AtomicLong scrapes = new AtomicLong();
    private final AtomicLong failedScrapes = new AtomicLong();
    private final Set<String> failing = ConcurrentHashMap.newKeySet();

    /**
     * @param managementDir where shims put their sockets ({@code [podvisor] management_dir})
     * @param scrapeTimeout deadline of one shim's answer
     */
    public NodeMonitor(Path managementDir, Duration scrapeTimeout, LogfmtLog log) {
        this.managementDir = managementDir;
        this.scrapeTimeout = scrapeTimeout;
        this.log = log;
    }

    /** The HTTP routes of the monitor. */
    public HttpRoutes routes() {
        return new HttpRoutes()
                .get("/metrics", request -> {
                    String only = request.query().get("sandbox");
                    return HttpResponse.ok(PromText.CONTENT_TYPE, only == null ? metrics() : metrics(only));
                })
                .get("/sandboxes", request -> HttpResponse.text(200,
                        sandboxes().stream().map(id -> id + "\n").reduce("", String::concat)))
                .get("/agent-url", request -> {
                    String id = request.query().get("sandbox");
                    if (id == null || !sandboxes().contains(id)) {
                        return HttpResponse.text(400, "parameter 'sandbox': unknown sandbox '" + id + "'\n");
                    }
                    return UnixHttpClient.get(socket(id), "/agent-url", scrapeTimeout);
                })
                .get("/", request -> HttpResponse.text(200,
                        "podvisor monitor: /metrics[?sandbox=ID] /sandboxes /agent-url?sandbox=ID\n"));
    }

    /** The sandbox ids that have a management socket, sorted. */
    public List<String> sandboxes() {
        if (!Files.isDirectory(managementDir)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(managementDir)) {
            return dirs.filter(dir -> Files.exists(dir.resolve(SandboxProbe.SOCKET_NAME)))
                    .map(dir -> dir.getFileName().toString()).sorted().toList();
        } catch (IOException | RuntimeException e) {
            log.warn("cannot list shims", "dir", managementDir, "error", String.valueOf(e));
            return List.of();
        }
    }

    /** The union of every shim's metrics, each sample with its {@code sandbox_id}, after the monitor's own. */
    public String metrics() {
        scrapes.incrementAndGet();
        List<String> ids = sandboxes();
        Map<String, Thread> threads = new LinkedHashMap<>();
        Map<String, String> answers = new ConcurrentHashMap<>();
        for (String id : ids) {
            threads.put(id, Thread.ofVirtual().name("scrape-" + id).start(() -> {
                String text = scrape(id);
                if (text != null) {
                    answers.put(id, text);
                }
            }));
        }
        for (Thread thread : threads.values()) {
            try {
                thread.join(scrapeTimeout.plusSeconds(1));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        PromText merged = new PromText().add(ownMetrics(ids.size()), Map.of());
        for (String id : ids) {
            String text = answers.get(id);
            if (text != null) {
                merged.add(text, Map.of("sandbox_id", id));
            }
        }
        return merged.render();
    }

    /** One shim's metrics with its {@code sandbox_id}; empty when it does not answer. */
    public String metrics(String sandboxId) {
        if (!sandboxes().contains(sandboxId)) {
            return "";
        }
        String text = scrape(sandboxId);
        return text == null ? "" : new PromText().add(text, Map.of("sandbox_id", sandboxId)).render();
    }

    /** One shim's {@code /metrics}, or null (logged once until it answers again) when it does not answer. */
    private String scrape(String id) {
        try {
            HttpResponse response = UnixHttpClient.get(socket(id), "/metrics", scrapeTimeout);
            if (response.status() != 200) {
                throw new IOException("status " + response.status() + ": " + response.bodyText().strip());
            }
            if (failing.remove(id)) {
                log.info("shim answers again", "sandbox_id", id);
            }
            return response.bodyText();
        } catch (IOException e) {
            failedScrapes.incrementAndGet();
            if (failing.add(id)) {
                log.warn("shim scrape failed; left out", "sandbox_id", id, "error", e.getMessage());
            }
            return null;
        }
    }

    private Path socket(String id) {
        return managementDir.resolve(id).resolve(SandboxProbe.SOCKET_NAME);
    }

    private String ownMetrics(int shims) {
        List<String> lines = new ArrayList<>();
        lines.add("# HELP kata_monitor_running_shim_count Running shim count(running sandboxes).");
        lines.add("# TYPE kata_monitor_running_shim_count gauge");
        lines.add("kata_monitor_running_shim_count " + shims);
        lines.add("# HELP kata_monitor_scrape_count Scrapes of /metrics served.");
        lines.add("# TYPE kata_monitor_scrape_count counter");
        lines.add("kata_monitor_scrape_count " + scrapes.get());
        lines.add("# HELP kata_monitor_scrape_failed_count Failed shim scrapes.");
        lines.add("# TYPE kata_monitor_scrape_failed_count counter");
        lines.add("kata_monitor_scrape_failed_count " + failedScrapes.get());
        return String.join("\n", lines) + "\n";
    }
}
