package dev.podvisor.shim;

import dev.podvisor.protocols.containerd.task.v2.DeleteResponse;
import dev.podvisor.sandbox.SandboxCleanup;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.shim.metrics.ManagementServer;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * {@code containerd-shim-kata-v2 ... -bundle <dir> delete}: containerd runs it after every task delete and
 * whenever it lost a shim. It must be idempotent and fast (containerd waits 5 s): it stops the daemon if it
 * still runs, undoes what the persisted sandbox state says was set up (VM processes, host mounts, state
 * directory) for a sandbox or single container, or just the container's own host mounts for a pod container,
 * then prints a {@code containerd.task.v2.DeleteResponse} — exit status 137 (128+SIGKILL) and now, like Kata —
 * and nothing else on stdout.
 */
final class DeleteCommand {

    private DeleteCommand() {
    }

    static int run(ShimFlags flags, Map<String, String> env, Path bundle, PrintStream stdout) {
        LogfmtLog log = new LogfmtLog(System.err, flags.debug() ? LogfmtLog.Level.DEBUG : LogfmtLog.Level.WARN,
                Map.of("id", flags.id()));
        SandboxCleanup.cleanupContainer(bundle, flags.id(),
                BundleFiles.read(bundle, BundleFiles.SHIM_PID).map(Long::parseLong), log);
        ManagementServer.removeStale(bundle, log);
        Instant now = Instant.now();
        DeleteResponse response = DeleteResponse.newBuilder().setExitStatus(128 + 9)
                .setExitedAt(TaskService.timestamp(now)).build();
        try {
            response.writeTo(stdout);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        stdout.flush();
        return 0;
    }
}
