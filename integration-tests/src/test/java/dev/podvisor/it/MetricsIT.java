package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.PrometheusServer;
import dev.podvisor.it.support.PrometheusServer.Sample;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Observability end to end: pods run through a private containerd (CRI sandbox annotations, as CtrRunIT's pod
 * test), each shim serves its management socket under the test's own {@code management_dir}, one
 * {@code podvisor monitor} scrapes them, and Debian's Prometheus scrapes the monitor every second. Queries
 * through Prometheus's HTTP API show per-pod series (shim RPC durations, the planner's mount counts) with the
 * CRI labels; a removed pod's series go away; a shim killed with SIGKILL while the monitor is being scraped
 * breaks no answer. Needs root, containerd, runc and the {@code prometheus} package (CI has them).
 */
class MetricsIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";
    static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Process monitor;
    static String monitorUrl;
    static PrometheusServer prometheus;
    static Leftovers.Snapshot before;
    static final List<String> markers = new ArrayList<>();
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start() throws IOException {
        before = Leftovers.take();
        Path config = TestbedConfig.write(dir.resolve("config"), "", 30);
        containerd = PrivateContainerd.start(config);
        BusyboxImage.importInto(containerd, "default");
        monitor = new ProcessBuilder(Installed.get().cli().toString(), "monitor", "--listen-address", "127.0.0.1:0",
                "--config", config.toString(), "--scrape-timeout", "1000")
                .redirectError(dir.resolve("monitor.log").toFile()).start();
        monitorUrl = listeningUrl(monitor);
        prometheus = PrometheusServer.start(dir.resolve("prometheus"), "podvisor", monitorUrl.substring("http://".length()));
    }

    /** The monitor's first stdout line, {@code listening on http://127.0.0.1:PORT}, read with a deadline. */
    static String listeningUrl(Process process) {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return null;
            }
        }).completeOnTimeout(null, 60, TimeUnit.SECONDS).join();
        if (line == null || !line.startsWith("listening on http://")) {
            throw new IllegalStateException("podvisor monitor did not start: " + line + "; log: " + readQuietly(dir.resolve("monitor.log")));
        }
        return line.substring("listening on ".length());
    }

    @AfterAll
    static void stop() throws IOException {
        if (prometheus != null) {
            prometheus.close();
        }
        if (monitor != null) {
            monitor.destroy();
            try {
                monitor.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (containerd != null) {
            containerd.close();
        }
        // containerd does not wait for shims to exit: give this test's processes a bounded time to end
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Leftovers.newSince(before, markers).isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        Leftovers.assertNothingNewSince(before, markers);
        Path sbs = dir.resolve("config/sbs");
        if (Files.isDirectory(sbs)) {
            try (var left = Files.list(sbs)) {
                assertEquals(List.of(), left.toList(), "no management socket directory is left");
            }
        }
    }

    private static String pod(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        return id;
    }

    /** Runs a pod's sandbox container detached, with the CRI annotations and one bind mount at /data. */
    private static void runPod(String id, String name) throws IOException {
        Path data = Files.createDirectories(dir.resolve("data-" + id));
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=sandbox",
                "--annotation", "io.kubernetes.cri.sandbox-id=" + id,
                "--annotation", "io.kubernetes.cri.sandbox-name=" + name,
                "--annotation", "io.kubernetes.cri.sandbox-namespace=shop",
                "--annotation", "io.kubernetes.cri.sandbox-uid=uid-" + name,
                "--mount", "type=bind,src=" + data + ",dst=/data,options=rbind:rw",
                BusyboxImage.NAME, id, "sh", "-c", LOOP).requireSuccess();
    }

    /** Stops and removes a pod's container (containerd then shuts its shim down). */
    private static void removePod(String id) {
        containerd.ctr("task", "kill", "-s", "SIGKILL", id);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && !containerd.ctr("task", "delete", id).ok()
                && containerd.ctr("task", "ls").stdout().contains(id)) {
            Thread.onSpinWait();
        }
        containerd.ctr("container", "rm", id);
    }

    private static Set<String> sandboxIds(List<Sample> samples) {
        return samples.stream().map(s -> s.labels().get("sandbox_id")).collect(Collectors.toSet());
    }

    private static HttpResponse<String> monitorGet(String path) throws IOException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(monitorUrl + path)).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    @Test
    void prometheusSeesEachPodThroughTheMonitorAndLosesARemovedOne() throws IOException {
        String a = pod("met-a");
        String b = pod("met-b");
        try {
            runPod(a, "web");
            runPod(b, "db");

            List<Sample> creates = prometheus.await("kata_shim_rpc_durations_histogram_milliseconds_count{action=\"create\"}",
                    r -> sandboxIds(r).containsAll(Set.of(a, b)), WAIT);
            assertTrue(sandboxIds(creates).containsAll(Set.of(a, b)), "create durations per pod: " + creates);
            for (Sample sample : creates) {
                if (sample.labels().get("sandbox_id").equals(a)) {
                    assertEquals("web", sample.labels().get("cri_name"), sample.toString());
                    assertEquals("shop", sample.labels().get("cri_namespace"), sample.toString());
                    assertEquals("uid-web", sample.labels().get("cri_uid"), sample.toString());
                    assertEquals(1.0, sample.value(), "one Create for the pod: " + sample);
                }
            }
            List<Sample> mounts = prometheus.await("podvisor_planner_mounts_total{kind=\"virtio-fs\",rule=\"bind-share\"}",
                    r -> sandboxIds(r).containsAll(Set.of(a, b)), WAIT);
            assertTrue(sandboxIds(mounts).containsAll(Set.of(a, b)), "the /data bind share of each pod: " + mounts);
            mounts.forEach(sample -> assertEquals(1.0, sample.value(), sample.toString()));
            List<Sample> vmm = prometheus.await("kata_hypervisor_threads > 0", r -> sandboxIds(r).containsAll(Set.of(a, b)), WAIT);
            assertTrue(sandboxIds(vmm).containsAll(Set.of(a, b)), "VMM process gauges per pod: " + vmm);

            removePod(b);
            List<Sample> left = prometheus.await("kata_shim_threads", r -> !sandboxIds(r).contains(b) && sandboxIds(r).contains(a), WAIT);
            assertEquals(Set.of(a), sandboxIds(left).stream().filter(markers::contains).collect(Collectors.toSet()),
                    "the removed pod's series are gone, the other's stay: " + left);
            assertFalse(monitorGet("/sandboxes").body().contains(b));
        } finally {
            removePod(a);
            removePod(b);
        }
    }

    @Test
    void aShimKilledWhileTheMonitorIsScrapedBreaksNoAnswer() throws Exception {
        String a = pod("met-live");
        String c = pod("met-kill");
        try {
            runPod(a, "live");
            runPod(c, "doomed");
            List<Sample> both = prometheus.await("kata_shim_threads", r -> sandboxIds(r).containsAll(Set.of(a, c)), WAIT);
            assertTrue(sandboxIds(both).containsAll(Set.of(a, c)), both.toString());

            // scrape the monitor continuously while the shim dies
            AtomicBoolean stop = new AtomicBoolean();
            List<String> bad = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();
            Thread hammer = Thread.ofVirtual().start(() -> {
                while (!stop.get()) {
                    try {
                        HttpResponse<String> response = monitorGet("/metrics");
                        answers.incrementAndGet();
                        if (response.statusCode() != 200 || !response.body().contains("sandbox_id=\"" + a + "\"")) {
                            bad.add(response.statusCode() + " " + response.body());
                        }
                    } catch (IOException e) {
                        bad.add(String.valueOf(e));
                    }
                }
            });
            long shimPid = Long.parseLong(Files.readString(containerd.bundle("default", c).resolve("shim.pid")).strip());
            int beforeKill = answers.get();
            ProcessHandle.of(shimPid).orElseThrow().destroyForcibly();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (answers.get() < beforeKill + 20 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            stop.set(true);
            hammer.join();
            assertTrue(answers.get() >= beforeKill + 20, "the monitor kept answering after the kill");
            assertEquals(List.of(), bad, "every answer was complete and had the live pod");

            List<Sample> up = prometheus.await("up{job=\"podvisor\"}", r -> r.size() == 1 && r.getFirst().value() == 1.0, WAIT);
            assertEquals(1.0, up.getFirst().value(), "Prometheus still scrapes the monitor: " + up);
            List<Sample> after = prometheus.await("kata_shim_threads", r -> !sandboxIds(r).contains(c) && sandboxIds(r).contains(a), WAIT);
            assertFalse(sandboxIds(after).contains(c), "the killed shim's series are gone: " + after);
            assertTrue(sandboxIds(after).contains(a), after.toString());
            String text = monitorGet("/metrics").body();
            assertFalse(text.contains("sandbox_id=\"" + c + "\""), text);
        } finally {
            removePod(a);
            removePod(c);
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

}
