package dev.podvisor.shim.metrics;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.sandbox.metrics.SandboxProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManagementServerTest {

    static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Test
    void servesMetricsAndAgentUrlOnKatasSocketOnceBootedAndRemovesItAtClose(@TempDir Path dir) throws IOException {
        PodMetrics metrics = PodMetrics.forSandbox(Map.of("io.kubernetes.cri.sandbox-name", "web"));
        ManagementServer server = new ManagementServer("sid", dir, metrics, LogfmtLog.discard());
        metrics.onSandboxBooted(server::start);
        Path socket = dir.resolve("sbs/sid/shim-monitor.sock");
        assertFalse(Files.exists(socket), "nothing before boot");

        metrics.sandboxBooted(new SandboxProbe(dir.resolve("sbs"), () -> 0, () -> 0, () -> "", "hvsock:///vm/clh.sock:1024"));
        try {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            metrics.taskRpc("State", 2_000_000);
            HttpResponse scraped = UnixHttpClient.get(socket, "/metrics", TIMEOUT);
            assertEquals(200, scraped.status());
            assertEquals("text/plain; version=0.0.4; charset=utf-8", scraped.contentType());
            assertTrue(scraped.bodyText().contains(
                    "kata_shim_rpc_durations_histogram_milliseconds_count{action=\"state\",cri_name=\"web\"} 1"),
                    scraped.bodyText());
            assertTrue(scraped.bodyText().contains("kata_shim_threads{cri_name=\"web\"} "), scraped.bodyText());

            HttpResponse url = UnixHttpClient.get(socket, "/agent-url", TIMEOUT);
            assertEquals("hvsock:///vm/clh.sock:1024", url.bodyText());
            HttpResponse unknown = UnixHttpClient.get(socket, "/nope", TIMEOUT);
            assertEquals(404, unknown.status());
            assertTrue(unknown.bodyText().contains("/metrics"), unknown.bodyText());
        } finally {
            server.close();
        }
        assertFalse(Files.exists(socket), "socket removed");
        assertFalse(Files.exists(socket.getParent()), "the sandbox's directory it created is removed");
        assertThrows(IOException.class, () -> UnixHttpClient.get(socket, "/metrics", TIMEOUT));
    }

    @Test
    void aStaleSocketLeftByADeadShimIsReplaced(@TempDir Path dir) throws IOException {
        Path socket = dir.resolve("sid/shim-monitor.sock");
        Files.createDirectories(socket.getParent());
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close(); // the file stays, nobody listens
        PodMetrics metrics = PodMetrics.forSandbox(Map.of());
        try (ManagementServer server = new ManagementServer("sid", dir, metrics, LogfmtLog.discard())) {
            server.start(new SandboxProbe(dir, () -> 0, () -> 0, () -> "", "hvsock://x"));
            assertEquals(200, UnixHttpClient.get(socket, "/metrics", TIMEOUT).status());
        }
        assertFalse(Files.exists(socket));
        assertTrue(Files.isDirectory(socket.getParent()), "a directory it did not create stays");
    }

    @Test
    void deleteRemovesTheSocketOfAKilledShimButNotOfALiveOne(@TempDir Path dir) throws IOException {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        PodMetrics metrics = PodMetrics.forSandbox(Map.of());
        Path socket = dir.resolve("sbs/sid/shim-monitor.sock");
        try (ManagementServer server = new ManagementServer("sid", bundle, metrics, LogfmtLog.discard())) {
            server.start(new SandboxProbe(dir.resolve("sbs"), () -> 0, () -> 0, () -> "", "hvsock://x"));
            assertEquals("unix://" + socket, Files.readString(bundle.resolve("monitor_address")));
            ManagementServer.removeStale(bundle, LogfmtLog.discard());
            assertEquals(200, UnixHttpClient.get(socket, "/metrics", TIMEOUT).status(), "a live shim keeps its socket");
        }
        // what SIGKILL leaves: the socket file with nobody listening
        Files.createDirectories(socket.getParent());
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close();
        ManagementServer.removeStale(bundle, LogfmtLog.discard());
        assertFalse(Files.exists(socket.getParent()), "stale socket and its directory removed");
        ManagementServer.removeStale(bundle, LogfmtLog.discard()); // idempotent
        ManagementServer.removeStale(dir, LogfmtLog.discard());    // a bundle without monitor_address
    }

    @Test
    void aSocketPathItCannotBindIsLoggedNotThrown(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("sid"), "a file where the directory should be");
        java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
        try (ManagementServer server = new ManagementServer("sid", dir, PodMetrics.forSandbox(Map.of()),
                new LogfmtLog(logged, LogfmtLog.Level.INFO, Map.of()))) {
            server.start(new SandboxProbe(dir, () -> 0, () -> 0, () -> "", "hvsock://x"));
        }
        String log = logged.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("level=warn msg=\"management API not started\""), log);
    }
}
