package dev.podvisor.it.support;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The containerd the integration tests run against: the IT suite runs once per version (CI: two failsafe
 * executions, see {@code integration-tests/pom.xml}), picked by system property {@value #PROPERTY}.
 *
 * <ul>
 *   <li>{@code 1.6}: Debian bookworm's containerd 1.6.20, on PATH (the default);</li>
 *   <li>{@code 2.1}: Debian sid's containerd 2.1.9, unpacked by {@code scripts/setup.sh} into
 *       {@value #V2_DEFAULT_BIN} (another directory: system property {@value #V2_BIN_PROPERTY}).</li>
 * </ul>
 * containerd 1.x reads a {@code version = 2} config, 2.x a {@code version = 3} one with the CRI settings
 * under {@code io.containerd.cri.v1.runtime}/{@code .images}; {@code scripts/containerd-private.sh} writes
 * the one that fits the binary it is given.
 */
public enum ContainerdVersion {
    /** Debian bookworm's containerd 1.6.20 (on PATH). */
    V1_6("1.6"),
    /** Debian sid's containerd 2.1.9 (in a private prefix). */
    V2_1("2.1");

    /** System property choosing the version: {@code 1.6} or {@code 2.1}. */
    public static final String PROPERTY = "podvisor.containerd";
    /** System property overriding where containerd 2.x's binaries are. */
    public static final String V2_BIN_PROPERTY = "podvisor.containerd2.bin";
    /** Where {@code scripts/setup.sh} unpacks containerd 2.1.9's binaries. */
    public static final String V2_DEFAULT_BIN = "/opt/podvisor-deps/containerd-2.1.9/usr/bin";

    private final String label;

    ContainerdVersion(String label) {
        this.label = label;
    }

    /** @return {@code 1.6} or {@code 2.1} */
    public String label() {
        return label;
    }

    /**
     * @return the version chosen by {@value #PROPERTY} (default {@link #V1_6})
     * @throws IllegalArgumentException when the property names no known version
     */
    public static ContainerdVersion selected() {
        String value = System.getProperty(PROPERTY, "1.6").strip();
        for (ContainerdVersion v : values()) {
            if (v.label.equals(value)) {
                return v;
            }
        }
        throw new IllegalArgumentException("system property " + PROPERTY + " '" + value + "': not one of 1.6, 2.1");
    }

    /**
     * @return the directory holding this version's {@code containerd} and {@code ctr}; null for the PATH's
     * @throws IllegalStateException when containerd 2.x is chosen but not there (run {@code scripts/setup.sh})
     */
    public Path binDir() {
        if (this == V1_6) {
            return null;
        }
        Path bin = Path.of(System.getProperty(V2_BIN_PROPERTY, V2_DEFAULT_BIN));
        if (!Files.isExecutable(bin.resolve("containerd")) || !Files.isExecutable(bin.resolve("ctr"))) {
            throw new IllegalStateException("containerd " + label + " chosen (-D" + PROPERTY + "=" + label
                    + ") but " + bin + " holds no containerd and ctr: run scripts/setup.sh (or set -D"
                    + V2_BIN_PROPERTY + ")");
        }
        return bin;
    }

    /** @return the {@code ctr} matching this containerd (an absolute path, or {@code ctr} from PATH) */
    public String ctr() {
        Path bin = binDir();
        return bin == null ? "ctr" : bin.resolve("ctr").toString();
    }
}
