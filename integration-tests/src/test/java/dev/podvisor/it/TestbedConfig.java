package dev.podvisor.it;

import dev.podvisor.it.support.Installed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A Kata-compatible configuration.toml for one test, pointing at the installed testbed stand-ins, with the
 * shim's state and share roots inside the test's own directory (so nothing it creates is shared with other
 * work on the machine).
 */
final class TestbedConfig {

    private TestbedConfig() {
    }

    /**
     * Writes {@code <dir>/configuration.toml}.
     *
     * @param clhOverrides extra {@code [hypervisor.clh]} lines, which replace the default of the same key
     * @param dialTimeoutSeconds {@code [agent.kata] dial_timeout}
     */
    static Path write(Path dir, String clhOverrides, int dialTimeoutSeconds) {
        return write(dir, clhOverrides, dialTimeoutSeconds, dir.resolve("state"));
    }

    /**
     * Same, with the shim's {@code state_dir} elsewhere: CRI sandbox ids have 64 characters, and the shim's
     * per-sandbox sockets ({@code <state_dir>/<id>/virtiofsd-kataShared.sock}) must stay within a unix socket
     * path's 107 bytes, so CRI tests need a state dir of at most 16 characters (see {@code ShortDir}).
     */
    static Path write(Path dir, String clhOverrides, int dialTimeoutSeconds, Path stateDir) {
        Installed installed = Installed.get();
        Path testbed = installed.prefix().resolve("testbed");
        StringBuilder clh = new StringBuilder();
        var defaults = new java.util.LinkedHashMap<String, String>();
        defaults.put("path", quote(testbed.resolve("bin/cloud-hypervisor")));
        defaults.put("kernel", quote(testbed.resolve("vmlinux.testbed")));
        defaults.put("image", quote(testbed.resolve("kata-containers.testbed.img")));
        defaults.put("virtio_fs_daemon", quote(testbed.resolve("bin/virtiofsd")));
        defaults.put("shared_fs", "\"virtio-fs\"");
        defaults.put("default_memory", "2048");
        defaults.put("default_vcpus", "1");
        for (String line : clhOverrides.lines().toList()) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                defaults.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
            }
        }
        defaults.forEach((key, value) -> clh.append(key).append(" = ").append(value).append('\n'));
        String toml = "[hypervisor.clh]\n" + clh
                + "\n[agent.kata]\ndial_timeout = " + dialTimeoutSeconds + "\n"
                + "\n[podvisor]\nstate_dir = " + quote(stateDir)
                + "\nshared_root = " + quote(dir.resolve("shared"))
                + "\ndirect_volumes_root = " + quote(directVolumesRoot(dir)) + "\n";
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("configuration.toml");
            Files.writeString(file, toml);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The direct-volume registry of a configuration written into {@code dir}. */
    static Path directVolumesRoot(Path dir) {
        return dir.resolve("direct-volumes");
    }

    static String quote(Path path) {
        return "\"" + path + "\"";
    }
}
