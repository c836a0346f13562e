package dev.podvisor.it;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Churn (issue 8): 100 sequential and 10 parallel {@code ctr run --rm} through Podvisor, with counts taken before
 * and after: processes, mounts and loop devices naming the run, shim sockets of its ids under
 * {@code /run/containerd/s}, state and share directories, and containerd's open fds and threads. Everything of
 * the runs must be gone; containerd's fds and threads may not grow with the number of runs (a small, fixed
 * slack absorbs the Go runtime's idle threads and lazily opened files, not a per-run leak: 110 runs would show
 * as 110). It prints both counts. Needs root, containerd and runc. On a machine with a load average of 20 it ran
 * 25 minutes (about 12 s per {@code ctr run}); see {@code -Dpodvisor.churn.sequential}.
 */
class ChurnIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    /** Sequential runs: 100 (issue 8); {@code -Dpodvisor.churn.sequential=N} for a quicker local run. */
    static final int SEQUENTIAL = Integer.getInteger("podvisor.churn.sequential", 100);
    static final int PARALLEL = 10;
    /** Fixed slack for containerd's fds and threads, far below one per run. */
    static final int SLACK = 8;

    @TempDir
    Path dir;

    /** One count of everything the issue lists. */
    record Counts(int processes, int mounts, int loopDevices, int sockets, int stateDirs, int shareDirs,
                  int containerdFds, int containerdThreads) {
    }

    @Test
    void runsLeaveNothingAndContainerdDoesNotGrow() throws Exception {
        Path config = TestbedConfig.write(dir.resolve("config"), "", 30);
        List<String> ids = new ArrayList<>();
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            List<String> markers = List.of(dir.toString(), containerd.dir().toString());
            // one warm-up batch: containerd's first runtime-v2 use opens what it keeps open
            Leftovers.Snapshot start = Leftovers.take();
            runParallel(containerd, ids, "warm");
            Leftovers.awaitExitOfNew(start, markers, Duration.ofSeconds(15));
            Leftovers.Snapshot baseline = Leftovers.take();
            Counts before = count(containerd, baseline, markers, ids);

            for (int i = 0; i < SEQUENTIAL; i++) {
                String id = containerd.uniqueId("seq" + i);
                ids.add(id);
                CommandResult r = run(containerd, id);
                assertEquals("ok\n", r.stdout(), r.toString());
            }
            runParallel(containerd, ids, "par");
            Leftovers.awaitExitOfNew(baseline, markers, Duration.ofSeconds(15));

            Counts after = count(containerd, baseline, markers, ids);
            System.out.println("churn counts before " + before + "\nchurn counts after  " + after);
            assertEquals(0, after.processes(), "processes: " + after);
            assertEquals(0, after.mounts(), "mounts: " + after);
            assertEquals(0, after.loopDevices(), "loop devices: " + after);
            assertEquals(0, after.sockets(), "shim sockets: " + after);
            assertEquals(0, after.stateDirs(), "state dirs: " + after);
            assertEquals(0, after.shareDirs(), "share dirs: " + after);
            assertTrue(after.containerdFds() <= before.containerdFds() + SLACK, "containerd fds " + before + " -> " + after);
            assertTrue(after.containerdThreads() <= before.containerdThreads() + SLACK,
                    "containerd threads " + before + " -> " + after);
        }
    }

    private static CommandResult run(PrivateContainerd containerd, String id) {
        return containerd.ctr(Duration.ofSeconds(120), "run", "--rm", "--runtime", RUNTIME, BusyboxImage.NAME, id,
                "echo", "ok");
    }

    private static void runParallel(PrivateContainerd containerd, List<String> ids, String stem) {
        List<CompletableFuture<CommandResult>> runs = new ArrayList<>();
        for (int i = 0; i < PARALLEL; i++) {
            String id = containerd.uniqueId(stem + i);
            ids.add(id);
            runs.add(CompletableFuture.supplyAsync(() -> run(containerd, id)));
        }
        for (CompletableFuture<CommandResult> r : runs) {
            assertEquals("ok\n", r.join().stdout(), r.join().toString());
        }
    }

    /** Counts; processes, mounts and loop devices are those new since {@code baseline} that name a marker. */
    private Counts count(PrivateContainerd containerd, Leftovers.Snapshot baseline, List<String> markers,
                         List<String> ids) throws IOException {
        List<String> fresh = Leftovers.newSince(baseline, markers);
        long pid = Long.parseLong(Files.readString(containerd.dir().resolve("containerd.pid")).strip());
        int sockets = (int) ids.stream().map(id -> FaultChecks.shimSocket(containerd, id)).filter(Files::exists).count();
        return new Counts(
                (int) fresh.stream().filter(s -> s.startsWith("process ")).count(),
                (int) fresh.stream().filter(s -> s.startsWith("mount ")).count(),
                (int) fresh.stream().filter(s -> s.startsWith("loop device ")).count(),
                sockets, entries(dir.resolve("config/state")), entries(dir.resolve("config/shared")),
                entries(Path.of("/proc", Long.toString(pid), "fd")), threads(pid));
    }

    private static int entries(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        try (Stream<Path> s = Files.list(directory)) {
            return (int) s.count();
        }
    }

    private static int threads(long pid) throws IOException {
        return Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                .filter(l -> l.startsWith("Threads:")).map(l -> Integer.parseInt(l.substring(8).strip()))
                .findFirst().orElse(-1);
    }
}
