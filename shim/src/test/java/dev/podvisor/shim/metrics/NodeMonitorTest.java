package dev.podvisor.shim.metrics;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PromText;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeMonitorTest {

    static final String SHIM_TEXT = """
            # HELP kata_shim_threads Kata containerd shim v2 process threads.
            # TYPE kata_shim_threads gauge
            kata_shim_threads{cri_name="%s"} %d
            # HELP podvisor_planner_mounts_total Mounts planned, by decision kind and rule.
            # TYPE podvisor_planner_mounts_total counter
            podvisor_planner_mounts_total{cri_name="%s",kind="guest-tmpfs",rule="emptydir-tmpfs"} 1.0
            """;

    @TempDir
    Path dir;
    final List<AutoCloseable> started = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable closeable : started) {
            closeable.close();
        }
    }

    private ServerSocketChannel bind(String sandboxId) throws IOException {
        Path socket = Files.createDirectories(dir.resolve(sandboxId)).resolve("shim-monitor.sock");
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(socket));
        started.add(channel);
        return channel;
    }

    private void shim(String sandboxId, String pod, int threads) throws IOException {
        HttpServer server = new HttpServer(new HttpRoutes().get("/metrics",
                request -> HttpResponse.ok(PromText.CONTENT_TYPE, SHIM_TEXT.formatted(pod, threads, pod))), e -> { });
        server.serve(bind(sandboxId));
        started.add(server);
    }

    /** Accepts, reads the request, then answers with {@code reply} and closes, or holds the connection open. */
    private void misbehaving(String sandboxId, String reply) throws IOException {
        ServerSocketChannel channel = bind(sandboxId);
        Thread.ofVirtual().start(() -> {
            List<SocketChannel> held = new ArrayList<>();
            try {
                while (true) {
                    SocketChannel connection = channel.accept();
                    connection.read(ByteBuffer.allocate(4096));
                    if (reply == null) {
                        held.add(connection); // never answers
                    } else {
                        connection.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.ISO_8859_1)));
                        connection.close();
                    }
                }
            } catch (IOException closed) {
                held.forEach(c -> {
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // closing
                    }
                });
            }
        });
    }

    private void stale(String sandboxId) throws IOException {
        bind(sandboxId).close(); // the socket file stays, nobody listens: a shim killed with SIGKILL
    }

    @Test
    void unionOfAnsweringShimsWithSandboxIdsWhateverTheOthersDo() throws IOException {
        shim("pod-a", "web", 11);
        shim("pod-b", "db", 22);
        stale("pod-stale");
        misbehaving("pod-dying", "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n# TYPE kata_shim_threads gauge\nkata_sh");
        misbehaving("pod-silent", null);
        Files.createDirectories(dir.resolve("not-a-shim"));
        NodeMonitor monitor = new NodeMonitor(dir, Duration.ofMillis(500), LogfmtLog.discard());

        assertEquals(List.of("pod-a", "pod-b", "pod-dying", "pod-silent", "pod-stale"), monitor.sandboxes());
        String text = monitor.metrics();
        assertEquals("""
                # HELP kata_monitor_running_shim_count Running shim count(running sandboxes).
                # TYPE kata_monitor_running_shim_count gauge
                kata_monitor_running_shim_count 5
                # HELP kata_monitor_scrape_count Scrapes of /metrics served.
                # TYPE kata_monitor_scrape_count counter
                kata_monitor_scrape_count 1
                # HELP kata_monitor_scrape_failed_count Failed shim scrapes.
                # TYPE kata_monitor_scrape_failed_count counter
                kata_monitor_scrape_failed_count 3
                # HELP kata_shim_threads Kata containerd shim v2 process threads.
                # TYPE kata_shim_threads gauge
                kata_shim_threads{sandbox_id="pod-a",cri_name="web"} 11
                kata_shim_threads{sandbox_id="pod-b",cri_name="db"} 22
                # HELP podvisor_planner_mounts_total Mounts planned, by decision kind and rule.
                # TYPE podvisor_planner_mounts_total counter
                podvisor_planner_mounts_total{sandbox_id="pod-a",cri_name="web",kind="guest-tmpfs",rule="emptydir-tmpfs"} 1.0
                podvisor_planner_mounts_total{sandbox_id="pod-b",cri_name="db",kind="guest-tmpfs",rule="emptydir-tmpfs"} 1.0
                """, text, "the stale, dying and silent shims are left out and counted");
        assertTrue(monitor.metrics().contains("kata_monitor_scrape_failed_count 6\n"));
    }

    @Test
    void oneSandboxAndTheHttpPaths() throws IOException {
        shim("pod-a", "web", 11);
        shim("pod-b", "db", 22);
        NodeMonitor monitor = new NodeMonitor(dir, Duration.ofSeconds(2), LogfmtLog.discard());
        HttpRoutes routes = monitor.routes();
        String one = routes.handle(HttpRequest.of("GET", "/metrics?sandbox=pod-b", Map.of(), new byte[0])).bodyText();
        assertTrue(one.contains("kata_shim_threads{sandbox_id=\"pod-b\",cri_name=\"db\"} 22"), one);
        assertTrue(!one.contains("pod-a") && !one.contains("kata_monitor"), one);
        assertEquals("pod-a\npod-b\n", routes.handle(HttpRequest.of("GET", "/sandboxes", Map.of(), new byte[0])).bodyText());
        assertEquals(400, routes.handle(HttpRequest.of("GET", "/agent-url?sandbox=zz", Map.of(), new byte[0])).status());
    }

    @Test
    void noManagementDirectoryMeansNoShims() {
        NodeMonitor monitor = new NodeMonitor(dir.resolve("absent"), Duration.ofSeconds(1), LogfmtLog.discard());
        assertTrue(monitor.metrics().contains("kata_monitor_running_shim_count 0\n"));
    }
}
