package dev.podvisor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Kata Containers 3.30.0's own Go shim ({@code containerd-shim-kata-v2}, built unchanged from upstream) and its
 * configuration for the testbed, kept outside the repository in the peers directory ({@code README.md} there):
 * {@value #SHIM_XZ} and {@value #CONFIG}.
 *
 * <p>The peers directory: system property {@value #PROPERTY}, else {@code <repo>/../shared/peers} (where CI
 * keeps it beside the clone).
 */
public final class KataPeer {

    /** System property naming the peers directory. */
    public static final String PROPERTY = "podvisor.peers";
    /** The xz-compressed static shim binary. */
    public static final String SHIM_XZ = "kata-shim-go-3.30.0.xz";
    /** Kata's configuration-clh.toml pointed at the testbed under {@code /opt/podvisor}. */
    public static final String CONFIG = "kata-clh-testbed.toml";

    private static final String DEFAULT_PREFIX = "/opt/podvisor/";

    private KataPeer() {
    }

    /** @return the peers directory (it may not exist) */
    public static Path directory() {
        String prop = System.getProperty(PROPERTY);
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop).toAbsolutePath().normalize();
        }
        return Installed.repoRoot().resolve("../shared/peers").normalize();
    }

    /** @return the compressed shim, {@code <peers>/}{@value #SHIM_XZ} (it may not exist) */
    public static Path shimArchive() {
        return directory().resolve(SHIM_XZ);
    }

    /**
     * Unpacks the shim ({@code xz -dc}) into {@code dir/containerd-shim-kata-v2}, mode 0755.
     *
     * @return the executable
     * @throws IllegalStateException when xz fails
     */
    public static Path unpackShim(Path dir) {
        Path shim = dir.resolve("containerd-shim-kata-v2");
        try {
            Files.createDirectories(dir);
            Process xz = new ProcessBuilder("xz", "-dc", shimArchive().toString())
                    .redirectOutput(shim.toFile()).redirectError(ProcessBuilder.Redirect.PIPE).start();
            String err = new String(xz.getErrorStream().readAllBytes());
            if (!xz.waitFor(120, TimeUnit.SECONDS) || xz.exitValue() != 0) {
                xz.destroyForcibly();
                throw new IllegalStateException("xz -dc " + shimArchive() + " failed: " + err);
            }
            Files.setPosixFilePermissions(shim, PosixFilePermissions.fromString("rwxr-xr-x"));
            return shim;
        } catch (IOException e) {
            throw new UncheckedIOException("unpacking " + shimArchive(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while unpacking " + shimArchive(), e);
        }
    }

    /**
     * Writes the peer configuration with its {@code /opt/podvisor/} paths pointed at {@code prefix} (the install
     * under test) to {@code dir/}{@value #CONFIG}.
     *
     * @return the written file
     */
    public static Path writeConfig(Path dir, Path prefix) {
        try {
            String toml = Files.readString(directory().resolve(CONFIG));
            if (!toml.contains(DEFAULT_PREFIX)) {
                throw new IllegalStateException(directory().resolve(CONFIG) + " names no " + DEFAULT_PREFIX + " path");
            }
            Path out = dir.resolve(CONFIG);
            Files.createDirectories(dir);
            Files.writeString(out, toml.replace(DEFAULT_PREFIX, prefix.toString() + "/"));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("writing the Kata peer configuration", e);
        }
    }

    /** @return the lines of the shim archive's location, for messages */
    public static List<String> describe() {
        return List.of("peers directory " + directory() + " (system property " + PROPERTY + ")", "shim " + shimArchive());
    }
}
