package dev.podvisor.it;

import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the fault and churn tests share: finding and signalling processes, task status, leftover waits. */
final class FaultChecks {

    private FaultChecks() {
    }

    /** The first live process whose command line contains every one of {@code parts}. */
    static Optional<Long> pidOf(String... parts) {
        return ProcessHandle.allProcesses()
                .filter(p -> {
                    String line = p.info().commandLine().orElse("");
                    return List.of(parts).stream().allMatch(line::contains);
                })
                .map(ProcessHandle::pid).findFirst();
    }

    /** Polls {@link #pidOf} until a process shows up; 0 when none did within {@code timeout}. */
    static long awaitPid(Duration timeout, String... parts) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Long> pid = pidOf(parts);
            if (pid.isPresent()) {
                return pid.get();
            }
            Thread.onSpinWait();
        }
        return 0;
    }

    /** The socket containerd 1.6 expects a shim for {@code id} in namespace {@code default} to listen on. */
    static Path shimSocket(PrivateContainerd containerd, String id) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(
                    Path.of(containerd.address().toString(), "default", id).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return Path.of("/run/containerd/s", java.util.HexFormat.of().formatHex(digest));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Polls until {@code path} does not exist; whether it went within {@code timeout}. */
    static boolean awaitGone(Path path, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (Files.exists(path)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.onSpinWait();
        }
        return true;
    }

    /** {@code kill -<signal> <pid>}. */
    static void kill(long pid, String signal) {
        Commands.run(List.of("kill", "-" + signal, Long.toString(pid))).requireSuccess();
    }

    /** {@link Tasks#awaitStatus} with 60 s ("" = the task is gone). */
    static String awaitStatus(PrivateContainerd containerd, String id, String status) {
        return Tasks.awaitStatus(containerd, id, status, Duration.ofSeconds(60));
    }

    /** Asserts that {@code dir} does not exist or is empty. */
    static void assertEmptyOrMissing(Path dir, String message) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var entries = Files.list(dir)) {
            List<Path> left = entries.toList();
            assertTrue(left.isEmpty(), message + ": " + left);
        }
    }

    /**
     * Restarts the private containerd: SIGTERM (shims survive, as under systemd's KillMode=process), wait for
     * it to exit, then start it again on the same directory and configuration.
     */
    static void restart(PrivateContainerd containerd) {
        Path dir = containerd.dir();
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve("containerd.pid")).strip());
            ProcessHandle handle = ProcessHandle.of(pid).orElseThrow();
            handle.destroy();
            handle.onExit().get(30, TimeUnit.SECONDS);
            String config = Files.readString(dir.resolve("env")).lines()
                    .filter(l -> l.startsWith("export KATA_CONF_FILE=")).map(l -> l.substring("export KATA_CONF_FILE=".length()))
                    .findFirst().orElseThrow();
            Commands.run(List.of("bash", Installed.script("containerd-private.sh").toString(), "start", dir.toString(),
                    "--runtime-config", config, "--shim", Installed.get().shimLauncher().toString())).requireSuccess();
        } catch (Exception e) {
            throw new AssertionError("restarting containerd in " + dir + ": " + e, e);
        }
    }
}
