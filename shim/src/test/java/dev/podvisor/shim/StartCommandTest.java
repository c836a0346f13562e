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
}
