package dev.podvisor.shim.metrics;

import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.GuestVolumes;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.sandbox.metrics.SandboxProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectVolumeRoutesTest {

    static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** Records what the routes ask of the sandbox. */
    static final class FakeVolumes implements GuestVolumes {
        final List<String> calls = new ArrayList<>();

        @Override
        public String statsJson(String device) {
            calls.add("stats " + device);
            if (device.equals("/dev/missing")) {
                throw new IllegalStateException("direct volume /dev/missing: GetVolumeStats: not found");
            }
            return "{\"usage\":[{\"total\":100,\"unit\":1}]}";
        }

        @Override
        public void resize(String device, long sizeBytes) {
            calls.add("resize " + device + " " + sizeBytes);
        }
    }

    @Test
    void statsAndResizeReachTheSandboxAsKatasShimServesThem(@TempDir Path dir) throws IOException {
        PodMetrics metrics = PodMetrics.forSandbox(Map.of());
        ManagementServer server = new ManagementServer("sid", dir, metrics, LogfmtLog.discard());
        FakeVolumes volumes = new FakeVolumes();
        metrics.onSandboxBooted(server::start);
        metrics.sandboxBooted(new SandboxProbe(dir.resolve("sbs"), () -> 0, () -> 0, () -> "", "hvsock://x", volumes));
        Path socket = dir.resolve("sbs/sid/shim-monitor.sock");
        try {
            // kata-runtime sends url.PathEscape(device) as the path parameter
            HttpResponse stats = UnixHttpClient.get(socket, "/direct-volume/stats?path=%2Fdev%2Floop7", TIMEOUT);
            assertEquals(200, stats.status(), stats.bodyText());
            assertEquals("application/json", stats.contentType());
            assertEquals("{\"usage\":[{\"total\":100,\"unit\":1}]}", stats.bodyText());

            HttpResponse missingParam = UnixHttpClient.get(socket, "/direct-volume/stats", TIMEOUT);
            assertEquals(400, missingParam.status());
            assertEquals("Required parameter path not found", missingParam.bodyText());

            HttpResponse refused = UnixHttpClient.get(socket, "/direct-volume/stats?path=/dev/missing", TIMEOUT);
            assertEquals(500, refused.status());
            assertTrue(refused.bodyText().contains("GetVolumeStats: not found"), refused.bodyText());

            HttpResponse resized = UnixHttpClient.postJson(socket, "/direct-volume/resize",
                    "{\"VolumePath\":\"/dev/loop7\",\"Size\":1073741824}".getBytes(StandardCharsets.UTF_8), TIMEOUT);
            assertEquals(200, resized.status(), resized.bodyText());

            HttpResponse badSize = UnixHttpClient.postJson(socket, "/direct-volume/resize",
                    "{\"VolumePath\":\"/dev/loop7\",\"Size\":\"big\"}".getBytes(StandardCharsets.UTF_8), TIMEOUT);
            assertEquals(400, badSize.status());
            assertTrue(badSize.bodyText().contains("key 'Size'"), badSize.bodyText());

            HttpResponse get = UnixHttpClient.get(socket, "/direct-volume/resize", TIMEOUT);
            assertEquals(405, get.status());
        } finally {
            server.close();
        }
        assertEquals(List.of("stats /dev/loop7", "stats /dev/missing", "resize /dev/loop7 1073741824"), volumes.calls);
    }
}
