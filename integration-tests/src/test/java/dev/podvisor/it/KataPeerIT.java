package dev.podvisor.it;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.KataPeer;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The testbed is faithful enough for Kata Containers' own shim: Kata 3.30.0's Go {@code containerd-shim-kata-v2}
 * (from the peers directory, see {@link KataPeer}) runs the {@link CtrScenarios} on the installed testbed through
 * a private containerd, as Podvisor's shim does in {@link CtrRunIT}. Kata names a container's main process with
 * exec_id = the container id and reads end of output as an OK answer with no data, which the guest emulator
 * must serve as the kata-agent does.
 *
 * <p>Kata logs to syslog and refuses to start without {@code /dev/log}: containerd (and so Kata's shim and the
 * stand-ins it starts) runs in its own mount namespace with a private {@code /dev/log}
 * ({@link PrivateContainerd.Builder#devLog}); the machine's {@code /dev} is not touched. Skipped, with a
 * message, only when the peer file is absent.
 */
class KataPeerIT extends CtrScenarios {

    @TempDir
    static Path classDir;
    static PrivateContainerd containerd;

    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeAll
    static void startContainerdWithKatasShim() {
        if (!Files.isRegularFile(KataPeer.shimArchive())) {
            System.err.println(absent());
            return; // every test is skipped, see snapshot()
        }
        Path shim = KataPeer.unpackShim(classDir.resolve("kata"));
        Path config = KataPeer.writeConfig(classDir.resolve("kata"), Installed.get().prefix());
        containerd = PrivateContainerd.builder().runtimeConfig(config).shim(shim).devLog(true).start();
        BusyboxImage.importInto(containerd, "default");
    }

    @AfterAll
    static void stopContainerd() {
        if (containerd != null) {
            containerd.close();
        }
    }

    private static String absent() {
        return "Kata peer shim absent, KataPeerIT skipped: " + String.join("; ", KataPeer.describe());
    }

    @BeforeEach
    void snapshot() {
        assumeTrue(containerd != null, KataPeerIT::absent);
        before = Leftovers.take();
    }

    @AfterEach
    void nothingLeftBehind() {
        if (before == null) {
            return; // skipped
        }
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(30));
        Leftovers.assertNothingNewSince(before, markers);
    }

    /**
     * The scenario without its execs. Kata 3.30's shim hangs on {@code ctr task exec} without a terminal
     * when ctr closes the exec's stdin before starting it. ctr sends CloseIO as soon as its own stdin ends, and
     * that can come before Start. Kata's {@code service.CloseIO} then waits for the stdin copier, which only Start
     * begins, while it holds the service lock that Start needs ({@code containerd-shim-v2/service.go}:
     * {@code <-stdinCloser} under {@code s.mu}). From then on every call to that shim queues. This hang was seen
     * in CI on containerd 2.1 and on 1.6, and a goroutine dump confirmed it; the guest never received the
     * ExecProcess. Metrics, pause/resume and SIGTERM still run against Kata's shim; the execs run against
     * Podvisor's ({@link CtrRunIT}).
     */
    @Override
    @org.junit.jupiter.api.Test
    void execMetricsPauseAndSigtermOfARunningTask() {
        String id = runLoopingTask("exec");
        metricsPauseAndResume(id);
        sigtermEndsWith143(id);
    }

    @Override
    PrivateContainerd containerd() {
        return containerd;
    }

    @Override
    String id(String stem) {
        String id = containerd.uniqueId("kata-" + stem);
        markers.add(id);
        return id;
    }

    @Override
    Duration timeout() {
        return Duration.ofSeconds(180);
    }

    @Override
    String diagnostics() {
        try {
            List<String> lines = Files.readAllLines(containerd.log());
            return "\n--- containerd.log (tail)\n"
                    + String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
        } catch (IOException e) {
            return "\n(no containerd log: " + e.getMessage() + ")";
        }
    }
}
