package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.podvisor.sandbox.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link StartTimeouts}: the pod start's bounds follow Kata's keys, with Kata's defaults when they are absent. */
class StartTimeoutsTest {

    @TempDir
    Path dir;

    private StartTimeouts of(String toml) throws Exception {
        Path file = Files.writeString(dir.resolve("configuration.toml"),
                "[hypervisor.clh]\npath = \"/bin/true\"\nkernel = \"/bin/true\"\n" + toml);
        return StartTimeouts.of(ConfigLoader.loadFile(file));
    }

    @Test
    void theProcessesWaitAsLongAsTheAgentDialAndAgentCallsAsLongAsCreateContainer() throws Exception {
        StartTimeouts t = of("[agent.kata]\ndial_timeout = 90\n[runtime]\ncreate_container_timeout = 300\n");
        assertEquals(Duration.ofSeconds(90), t.processStart());
        assertEquals(Duration.ofSeconds(300), t.agentCall());
    }

    @Test
    void absentOrZeroKeysMeanKatasDefaultsNotTheOldFixedTenSeconds() throws Exception {
        StartTimeouts absent = of("");
        assertEquals(Duration.ofSeconds(45), absent.processStart(), "dial_timeout's shipped value");
        assertEquals(Duration.ofSeconds(60), absent.agentCall(), "create_container_timeout's default");
        assertEquals(absent, of("[agent.kata]\ndial_timeout = 0\n[runtime]\ncreate_container_timeout = 0\n"));
    }
}
