package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CreateSandbox's hostname is the pod's, cut as Kata cuts it (kata_agent.go maxHostnameLen = 64). */
class HostnameTest {

    @TempDir
    Path bundle;

    private String hostnameOf(String specJson) throws IOException {
        Files.writeString(bundle.resolve("config.json"), specJson);
        return BundleSpec.hostname(bundle);
    }

    @Test
    void thePodsHostnameIsSentAsIs() throws IOException {
        assertEquals("web-0", hostnameOf("{\"hostname\":\"web-0\"}"));
    }

    @Test
    void aLongHostnameIsCutTo64() throws IOException {
        String longName = "a".repeat(70);
        assertEquals("a".repeat(64), hostnameOf("{\"hostname\":\"" + longName + "\"}"));
    }

    @Test
    void noHostnameSendsNoneAsKataDoes() throws IOException {
        assertEquals("", hostnameOf("{\"ociVersion\":\"1.2.0\"}"));
    }
}
