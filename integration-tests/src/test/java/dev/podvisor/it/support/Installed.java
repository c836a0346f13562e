package dev.podvisor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where the Podvisor under test is installed: the launchers containerd runs and the testbed configuration.
 *
 * <p>Found once per JVM, in this order:
 * <ol>
 *   <li>system property {@code podvisor.prefix}: an existing install (as made by {@code scripts/setup.sh});</li>
 *   <li>the build's own output, when {@code shim/target/lib} and {@code integration-tests/target/lib} and the
 *       integration-tests jar exist (i.e. after {@code package}): installed by
 *       {@code scripts/setup.sh --no-apt --no-build --no-links} into a temp prefix, removed when the JVM exits
 *       (so {@code mvn verify} tests the code it just built, not an older install);</li>
 *   <li>{@code /opt/podvisor}, the default prefix of {@code scripts/setup.sh}.</li>
 * </ol>
 * The layout is the one {@code scripts/setup.sh} documents: {@code bin/containerd-shim-kata-v2},
 * {@code bin/podvisor}, {@code testbed/configuration.toml}, {@code testbed/bin/{cloud-hypervisor,virtiofsd}}.
 */
public final class Installed {

    /** The default prefix of {@code scripts/setup.sh}. */
    public static final Path DEFAULT_PREFIX = Path.of("/opt/podvisor");

    private static Installed instance;
    private static Path repoRoot;

    private final Path prefix;

    private Installed(Path prefix) {
        this.prefix = prefix;
    }

    /**
     * @return the install under test (found or made on first call)
     * @throws IllegalStateException when there is none and the build output is incomplete, naming what to run
     */
    public static synchronized Installed get() {
        if (instance == null) {
            instance = new Installed(locate());
        }
        return instance;
    }

    /** @return the install prefix (absolute) */
    public Path prefix() {
        return prefix;
    }

    /** @return {@code <prefix>/bin/containerd-shim-kata-v2}, the shim launcher */
    public Path shimLauncher() {
        return prefix.resolve("bin/containerd-shim-kata-v2");
    }

    /** @return {@code <prefix>/bin/podvisor}, the CLI launcher */
    public Path cli() {
        return prefix.resolve("bin/podvisor");
    }

    /** @return {@code <prefix>/testbed/configuration.toml}: Kata-compatible, pointing at the stand-ins */
    public Path testbedConfiguration() {
        return prefix.resolve("testbed/configuration.toml");
    }

    /** @return {@code <prefix>/testbed/bin}: the {@code cloud-hypervisor} and {@code virtiofsd} stand-ins */
    public Path testbedBin() {
        return prefix.resolve("testbed/bin");
    }

    /**
     * The repository root: system property {@code podvisor.repo}, else the nearest directory at or above the
     * working directory holding {@code scripts/containerd-private.sh}.
     *
     * @return the repository root
     * @throws IllegalStateException when it cannot be found
     */
    public static synchronized Path repoRoot() {
        if (repoRoot == null) {
            String prop = System.getProperty("podvisor.repo");
            if (prop != null) {
                repoRoot = Path.of(prop).toAbsolutePath().normalize();
            } else {
                for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
                    if (Files.isRegularFile(d.resolve("scripts/containerd-private.sh"))) {
                        repoRoot = d;
                        break;
                    }
                }
            }
            if (repoRoot == null || !Files.isRegularFile(repoRoot.resolve("scripts/containerd-private.sh"))) {
                throw new IllegalStateException("repository root not found from " + Path.of("").toAbsolutePath()
                        + " (no scripts/containerd-private.sh above it; set -Dpodvisor.repo=<dir>)");
            }
        }
        return repoRoot;
    }

    /**
     * @param name a file name under {@code scripts/}
     * @return its absolute path in the repository
     */
    public static Path script(String name) {
        return repoRoot().resolve("scripts").resolve(name);
    }

    private static Path locate() {
        String prop = System.getProperty("podvisor.prefix");
        if (prop != null && !prop.isBlank()) {
            Path p = Path.of(prop).toAbsolutePath().normalize();
            requireInstall(p, "system property podvisor.prefix");
            return p;
        }
        Path repo = repoRoot();
        if (buildOutputComplete(repo)) {
            return installBuildOutput(repo);
        }
        requireInstall(DEFAULT_PREFIX, "default prefix (build output incomplete: run mvn package or scripts/setup.sh)");
        return DEFAULT_PREFIX;
    }

    private static void requireInstall(Path prefix, String from) {
        if (!Files.isExecutable(prefix.resolve("bin/containerd-shim-kata-v2"))
                || !Files.isRegularFile(prefix.resolve("testbed/configuration.toml"))) {
            throw new IllegalStateException("no Podvisor install at " + prefix + " (" + from
                    + "): bin/containerd-shim-kata-v2 or testbed/configuration.toml missing; run scripts/setup.sh");
        }
    }

    private static boolean buildOutputComplete(Path repo) {
        Path itTarget = repo.resolve("integration-tests/target");
        if (!Files.isDirectory(repo.resolve("shim/target/lib")) || !Files.isDirectory(itTarget.resolve("lib"))) {
            return false;
        }
        try (Stream<Path> s = Files.list(itTarget)) {
            return s.anyMatch(p -> p.getFileName().toString().matches("podvisor-integration-tests-.*(?<!-tests)\\.jar"));
        } catch (IOException e) {
            return false;
        }
    }

    private static Path installBuildOutput(Path repo) {
        Path prefix;
        try {
            prefix = Files.createTempDirectory("podvisor-it-prefix-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp prefix", e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(prefix)));
        CommandResult r = Commands.run(List.of("bash", script("setup.sh").toString(), "--no-apt", "--no-build",
                "--no-links", "--prefix", prefix.toString()));
        if (!r.ok()) {
            throw new IllegalStateException("installing the build output into " + prefix + " failed: " + r);
        }
        return prefix;
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort at JVM exit
                }
            });
        } catch (IOException ignored) {
            // best effort at JVM exit
        }
    }
}
