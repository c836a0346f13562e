package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.ChildRegistry;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * What a later shim sweeps that an earlier one could not (its {@code delete} was killed by containerd's deadline,
 * or containerd never called it): every sandbox under the state directory whose shim daemon is provably gone, i.e.
 * it has a {@code sandbox.json} and a {@link ChildRegistry} whose {@code shim} records all name processes that no
 * longer run (pid and start time). Such a sandbox is torn down as {@code delete} would do it, and its shim's socket
 * under {@code /run/containerd/s} is removed when {@link StaleShimSocket} proves it dead and Podvisor's. A sandbox without a
 * registry (written by an older Podvisor) or with a live shim is left alone.
 */
final class StaleSandboxSweep {

    private StaleSandboxSweep() {
    }

    /** Runs {@link #sweep} on a platform thread (it waits on processes and unmounts), not delaying the caller. */
    static void inBackground(Path stateDir, LogfmtLog log) {
        Thread.ofPlatform().daemon().name("stale-sandbox-sweep").start(() -> {
            try {
                sweep(stateDir, log);
            } catch (RuntimeException e) {
                log.warn("sweeping stale sandboxes failed", "error", String.valueOf(e));
            }
        });
    }

    /**
     * Tears down every stale sandbox under {@code stateDir}.
     *
     * @return the ids of the sandboxes torn down
     */
    static List<String> sweep(Path stateDir, LogfmtLog log) {
        List<Path> dirs;
        try (Stream<Path> list = Files.list(stateDir)) {
            dirs = list.filter(Files::isDirectory).toList();
        } catch (IOException e) {
            return List.of();
        }
        List<String> swept = new java.util.ArrayList<>();
        for (Path dir : dirs) {
            if (!isStale(dir)) {
                continue;
            }
            Optional<SandboxState> state;
            try {
                state = SandboxState.load(dir);
            } catch (RuntimeException unreadable) {
                continue;
            }
            if (state.isPresent() && isStale(dir)) {
                log.warn("tearing down a sandbox whose shim is gone", "sandbox", state.get().sandboxId());
                Optional<Path> bundle = SandboxCleanup.sandboxBundle(dir);
                SandboxCleanup.tearDownSandbox(state.get(), List.of(), log);
                bundle.ifPresent(b -> StaleShimSocket.removeIfDead(b, log));
                swept.add(state.get().sandboxId());
            }
        }
        return swept;
    }

    /** A registry with at least one shim record, none of which runs. */
    static boolean isStale(Path dir) {
        List<ChildRegistry.Child> shims = ChildRegistry.in(dir).children().stream()
                .filter(c -> c.kind().equals(ChildRegistry.SHIM)).toList();
        return !shims.isEmpty() && shims.stream().noneMatch(ChildRegistry.Child::isRunning)
                && Files.exists(dir.resolve(SandboxState.FILE));
    }
}
