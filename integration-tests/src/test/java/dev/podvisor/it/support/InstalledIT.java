package dev.podvisor.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The install the integration tests use ({@link Installed}): launchers present, the testbed configuration names
 * files that exist, and the stand-ins start.
 */
class InstalledIT {

    @Test
    void installHasLaunchersAndAConsistentTestbedConfiguration() throws Exception {
        Installed in = Installed.get();
        assertTrue(Files.isExecutable(in.shimLauncher()), in.shimLauncher().toString());
        assertTrue(Files.isExecutable(in.cli()), in.cli().toString());
        String toml = Files.readString(in.testbedConfiguration());
        for (String key : List.of("path", "kernel", "image", "virtio_fs_daemon")) {
            Matcher m = Pattern.compile("(?m)^" + key + " = \"([^\"]+)\"$").matcher(toml);
            assertTrue(m.find(), "configuration.toml key " + key + " missing:\n" + toml);
            assertTrue(Files.exists(Path.of(m.group(1))), key + " = " + m.group(1) + " does not exist");
        }
        assertTrue(toml.contains("shared_fs = \"virtio-fs\""), toml);
    }

    @Test
    void testbedStandInsStartFromTheInstall() {
        Installed in = Installed.get();
        CommandResult ch = Commands.run(List.of(in.testbedBin().resolve("cloud-hypervisor").toString(), "--version"))
                .requireSuccess();
        assertTrue(ch.out().startsWith("cloud-hypervisor v"), ch.out());
        CommandResult fs = Commands.run(List.of(in.testbedBin().resolve("virtiofsd").toString(), "--version"))
                .requireSuccess();
        assertTrue(fs.out().startsWith("virtiofsd "), fs.out());
        assertEquals("", ch.stderr() + fs.stderr());
    }
}
