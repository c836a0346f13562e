package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class SocketPathLimitTest {
    private static final String CRI_ID = "a".repeat(64);

    @Test
    void theDefaultStateDirFitsACriSandboxId() {
        Path stateDir = Path.of("/run/podvisor");
        assertDoesNotThrow(() -> SocketPathLimit.check(stateDir, stateDir.resolve(CRI_ID), List.of("fast")));
    }

    @Test
    void aLongStateDirIsRefusedNamingTheKeyAndThePath() {
        Path stateDir = Path.of("/var/lib/some/long/podvisor-state");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SocketPathLimit.check(stateDir, stateDir.resolve(CRI_ID), List.of()));
        assertTrue(e.getMessage().startsWith("[podvisor] state_dir '/var/lib/some/long/podvisor-state': the socket path '"
                + stateDir.resolve(CRI_ID) + "/clh-api.sock' is 111 bytes, more than the 107"), e.getMessage());
    }

    @Test
    void aLongExtraDeviceNameIsRefusedEvenWhenTheStateDirFits() {
        Path stateDir = Path.of("/run/podvisor");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SocketPathLimit.check(stateDir, stateDir.resolve(CRI_ID), List.of("d".repeat(30))));
        assertTrue(e.getMessage().startsWith("[hypervisor.clh] extra_virtiofs device '" + "d".repeat(30) + "': the socket path '"),
                e.getMessage());
        assertTrue(e.getMessage().contains(".sock' is 124 bytes"), e.getMessage());
        assertNull(SocketPathLimit.tooLong(Path.of("/run/x.sock")));
    }
}
