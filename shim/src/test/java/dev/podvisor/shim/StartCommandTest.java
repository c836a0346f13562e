package dev.podvisor.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StartCommandTest {

    @Test
    void aBundleWithoutConfigJsonIsRefusedAsTheSandboxApiNamingTheWayOut(@TempDir Path bundle) throws Exception {
        // containerd 2.x with sandboxer = "shim" starts the shim in a bundle that has no config.json
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> ShimMain.run(
                List.of("-namespace", "k8s.io", "-address", "/run/podvisor-test-none.sock", "-publish-binary",
                        "/usr/bin/containerd", "-id", "sbx1", "start"),
                Map.of("TTRPC_ADDRESS", "/run/podvisor-test-none.sock.ttrpc"), bundle,
                new PrintStream(out, true, StandardCharsets.UTF_8)));
        assertTrue(refused.getMessage().startsWith("sandbox API not supported: bundle " + bundle + " has no config.json"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("sandboxer = \"podsandbox\""), refused.getMessage());
        assertEquals("", out.toString(StandardCharsets.UTF_8), "no address printed");
        try (var files = Files.list(bundle)) {
            assertEquals(List.of(), files.toList(), "nothing written to the bundle");
        }
    }

    @Test
    void theDaemonRunsWithTheDaemonsAotCacheWhenStartRanWithTheSmallOne() {
        String[] start = {"-Xmx32m", "-XX:AOTCache=/p/lib/shim-start.aot", "-Dpodvisor.daemon.aot-cache=/p/lib/shim.aot",
                "-cp", "/p/lib/*", "dev.podvisor.shim.ShimMain", "-id", "x", "start"};
        assertEquals(List.of("-Xmx32m", "-XX:AOTCache=/p/lib/shim.aot", "-cp", "/p/lib/*", "dev.podvisor.shim.ShimMain"),
                StartCommand.daemonJvmArgs(start, "/p/lib/shim.aot"));
        assertEquals(List.of("-Xmx32m", "-cp", "/p/lib/*", "dev.podvisor.shim.ShimMain"),
                StartCommand.daemonJvmArgs(start, ""), "no daemon cache installed: none");
        String[] plain = {"-Xmx32m", "-XX:AOTCache=/p/lib/shim.aot", "-cp", "/p/lib/*", "dev.podvisor.shim.ShimMain", "start"};
        assertEquals(List.of("-Xmx32m", "-XX:AOTCache=/p/lib/shim.aot", "-cp", "/p/lib/*", "dev.podvisor.shim.ShimMain"),
                StartCommand.daemonJvmArgs(plain, null), "without the property: this JVM's arguments as they are");
    }
}
