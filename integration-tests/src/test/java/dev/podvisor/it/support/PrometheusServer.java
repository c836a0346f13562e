package dev.podvisor.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Debian's Prometheus ({@code /usr/bin/prometheus}, package {@code prometheus}) for one test: listens on
 * 127.0.0.1 on a free port, with its own configuration and data directory under {@code dir}, scraping one
 * target every second; {@link #close()} stops it and removes the directory. Queries go through the HTTP API
 * ({@code /api/v1/query}).
 */
public final class PrometheusServer implements AutoCloseable {

    static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path dir;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** One instant-query result: its labels and value. */
    public record Sample(Map<String, String> labels, double value) {
    }

    private PrometheusServer(Process process, Path dir, int port) {
        this.process = process;
        this.dir = dir;
        this.port = port;
    }

    /**
     * Starts Prometheus scraping {@code target} ({@code host:port}) as job {@code job} every second, and waits
     * (60 s at most) until its API answers.
     */
    public static PrometheusServer start(Path dir, String job, String target) {
        try {
            Files.createDirectories(dir.resolve("data"));
            Path config = dir.resolve("prometheus.yml");
            Files.writeString(config, """
                    global:
                      scrape_interval: 1s
                      scrape_timeout: 1s
                      evaluation_interval: 1s
                    scrape_configs:
                      - job_name: %s
                        static_configs:
                          - targets: ['%s']
                    """.formatted(job, target));
            int port = freePort();
            Process process = new ProcessBuilder("/usr/bin/prometheus", "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            PrometheusServer server = new PrometheusServer(process, dir, port);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (true) {
                try {
                    server.get("/-/ready");
                    return server;
                } catch (IOException notYet) {
                    if (System.nanoTime() > deadline || !process.isAlive()) {
                        server.close();
                        throw new IllegalStateException("prometheus did not become ready: "
                                + Files.readString(dir.resolve("prometheus.log")));
                    }
                    Thread.onSpinWait();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An instant query's vector result. */
    public List<Sample> query(String promql) {
        try {
            JsonNode answer = JSON.readTree(get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)));
            if (!answer.path("status").asText().equals("success")) {
                throw new IllegalStateException(promql + ": " + answer);
            }
            List<Sample> out = new ArrayList<>();
            for (JsonNode result : answer.path("data").path("result")) {
                Map<String, String> labels = new LinkedHashMap<>();
                result.path("metric").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
                out.add(new Sample(labels, Double.parseDouble(result.path("value").path(1).asText())));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(promql + ": " + e.getMessage(), e);
        }
    }

    /**
     * Polls {@code promql} until {@code done} accepts the result or {@code timeout} passes; returns the last
     * result either way (the caller asserts on it).
     */
    public List<Sample> await(String promql, Predicate<List<Sample>> done, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<Sample> last = query(promql);
        while (!done.test(last) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
            last = query(promql);
        }
        return last;
    }

    private String get(String path) throws IOException {
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IOException(path + ": status " + response.statusCode() + ": " + response.body());
            }
            return response.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(path + ": interrupted", e);
        }
    }

    /** A TCP port on 127.0.0.1 nobody listens on right now. */
    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Stops Prometheus and removes its configuration and data. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Installed.deleteTree(dir);
    }
}
