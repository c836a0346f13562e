package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * A private containerd per test, on a testbed configuration in the test's own temp dir, and the leftover check
 * after it: no process, mount, loop device or socket naming the test, no state or share directory, no shim socket
 * of its ids under {@code /run/containerd/s}. Subclasses name their containers with {@link #id}.
 */
abstract class ContainerdPerTest {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String IMAGE = BusyboxImage.NAME;

    @TempDir
    Path dir;
    PrivateContainerd containerd;
    Path stateDir;
    Path sharedRoot;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();
    final List<String> ids = new ArrayList<>();

    /** Extra {@code [hypervisor.clh]} lines of the configuration; none by default. */
    String clhOverrides() {
        return "";
    }

    @BeforeEach
    void start() {
        before = Leftovers.take();
        startContainerd(clhOverrides());
    }

    /** Starts the test's containerd on a configuration with {@code clhOverrides} (replacing one it had). */
    void startContainerd(String clhOverrides) {
        Path config = TestbedConfig.write(dir.resolve("config"), clhOverrides, 30);
        stateDir = dir.resolve("config/state");
        sharedRoot = dir.resolve("config/shared");
        markers.add(dir.toString());
        containerd = PrivateContainerd.start(config);
        markers.add(containerd.dir().toString());
        BusyboxImage.importInto(containerd, "default");
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        try {
            Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
            Leftovers.assertNothingNewSince(before, markers);
            FaultChecks.assertEmptyOrMissing(stateDir, "no shim state directory is left");
            FaultChecks.assertEmptyOrMissing(sharedRoot, "no share directory is left");
            for (String id : ids) {
                Path socket = FaultChecks.shimSocket(containerd, id);
                assertFalse(Files.exists(socket), "the shim socket of " + id + " is removed: " + socket);
            }
        } finally {
            containerd.close();
        }
    }

    /** A unique container id, remembered for the leftover check. */
    String id(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        ids.add(id);
        return id;
    }
}
