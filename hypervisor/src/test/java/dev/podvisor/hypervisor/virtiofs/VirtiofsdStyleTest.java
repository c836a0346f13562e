package dev.podvisor.hypervisor.virtiofs;

import dev.podvisor.hypervisor.HypervisorSettings;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The two virtiofsd command lines the shim builds, and Kata's cache names mapped onto the C daemon's. */
class VirtiofsdStyleTest {

    static final Path SOCK = Path.of("/run/podvisor/sb/virtiofsd-kataShared.sock");
    static final Path DIR = Path.of("/run/kata-containers/shared/sandboxes/sb/kataShared/ro");

    @Test
    void rustIsKataRuntimeRsCommandLine() {
        assertEquals(List.of("--socket-path", SOCK.toString(), "--shared-dir", DIR.toString(), "--cache", "metadata"),
                VirtiofsdStyle.RUST.ownArgs(SOCK, DIR, "metadata"));
    }

    @Test
    void cStyleUsesFuseOptions() {
        assertEquals(List.of("--socket-path=" + SOCK, "-o", "source=" + DIR, "-o", "cache=auto"),
                VirtiofsdStyle.QEMU_C.ownArgs(SOCK, DIR, "auto"));
    }

    @Test
    void kataCacheNamesMapOntoTheCDaemons() {
        Map<String, List<String>> want = Map.of(
                "never", List.of("-o", "cache=none"),
                "metadata", List.of("-o", "cache=none", "-o", "timeout=86400"),
                "auto", List.of("-o", "cache=auto"),
                "always", List.of("-o", "cache=always"));
        want.forEach((kata, c) -> {
            List<String> args = VirtiofsdStyle.QEMU_C.ownArgs(SOCK, DIR, kata);
            assertEquals(c, args.subList(3, args.size()), kata);
        });
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> VirtiofsdStyle.QEMU_C.ownArgs(SOCK, DIR, "sometimes"));
        assertTrue(e.getMessage().contains("'sometimes'"), e.getMessage());
    }

    @Test
    void theExtraArgumentsComeAfterTheShimsOwn() {
        var o = new Virtiofsd.Options(Path.of("/usr/lib/qemu/virtiofsd"), SOCK, DIR, "never",
                List.of("-o", "cache=always", "--thread-pool-size=4"), Path.of("/tmp/log"), Duration.ofSeconds(1),
                VirtiofsdStyle.QEMU_C);
        assertEquals(List.of("/usr/lib/qemu/virtiofsd", "--socket-path=" + SOCK, "-o", "source=" + DIR, "-o", "cache=none",
                "-o", "cache=always", "--thread-pool-size=4"), o.argv());
    }

    @Test
    void eachStyleHasKatasDefaultExtraArguments() {
        var rust = HypervisorSettings.kataDefaults(Path.of("/ch"), Path.of("/k"), Path.of("/i"), null, Path.of("/v"));
        assertEquals(List.of("--thread-pool-size=1", "--announce-submounts"), rust.virtioFsExtraArgs());
        var c = new HypervisorSettings(Path.of("/ch"), Path.of("/k"), Path.of("/i"), null, "", 1, 256,
                Path.of("/usr/lib/qemu/virtiofsd"), null, null, 1024, false, true, VirtiofsdStyle.QEMU_C);
        assertEquals(List.of("--thread-pool-size=1", "-o", "announce_submounts"), c.virtioFsExtraArgs());
    }

    @Test
    void stylesByName() {
        assertEquals(VirtiofsdStyle.RUST, VirtiofsdStyle.of("rust"));
        assertEquals(VirtiofsdStyle.QEMU_C, VirtiofsdStyle.of("c"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VirtiofsdStyle.of("go"));
        assertTrue(e.getMessage().contains("'go'"), e.getMessage());
    }
}
