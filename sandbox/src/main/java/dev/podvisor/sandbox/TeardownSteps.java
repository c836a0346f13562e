package dev.podvisor.sandbox;

import dev.podvisor.sandbox.log.LogfmtLog;

import java.util.ArrayList;
import java.util.List;

/**
 * An ordered teardown: stages run one after another, and the steps of one stage run together, each on its own
 * platform thread (steps make blocking system calls: unmount, waitpid, netlink through {@code ip}). Every step
 * runs whatever the others do: a failing step is logged ({@code warn "cleanup step failed" step=<name>}) and the
 * teardown goes on. Each step's wall time is logged at debug level ({@code "teardown step" step=<name>
 * duration_ms=<ms>}), so containerd's debug log shows where a teardown spends its time.
 */
final class TeardownSteps {

    /** One named clean-up action. */
    record Step(String name, Runnable action) {
    }

    private final List<List<Step>> stages = new ArrayList<>();

    /** Adds a stage of one step, run after every earlier stage ended. */
    TeardownSteps then(String name, Runnable action) {
        stages.add(List.of(new Step(name, action)));
        return this;
    }

    /**
     * Adds a stage whose steps run at the same time (they must not depend on each other), after every earlier
     * stage ended; the next stage starts once all of them ended. An empty stage is skipped.
     */
    TeardownSteps together(List<Step> steps) {
        if (!steps.isEmpty()) {
            stages.add(List.copyOf(steps));
        }
        return this;
    }

    /** A step to pass to {@link #together}. */
    static Step step(String name, Runnable action) {
        return new Step(name, action);
    }

    /** Runs every stage in order; never throws for a failing step. */
    void run(LogfmtLog log) {
        for (List<Step> stage : stages) {
            if (stage.size() == 1) {
                runOne(stage.getFirst(), log);
                continue;
            }
            List<Thread> threads = new ArrayList<>(stage.size());
            for (Step step : stage.subList(1, stage.size())) {
                threads.add(Thread.ofPlatform().name("teardown-" + step.name()).start(() -> runOne(step, log)));
            }
            runOne(stage.getFirst(), log); // the caller's thread does one of them
            boolean interrupted = false;
            for (Thread thread : threads) {
                while (true) {
                    try {
                        thread.join();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true; // the steps must end before the next stage may start
                    }
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void runOne(Step step, LogfmtLog log) {
        try {
            timed(step.name(), step.action(), log);
        } catch (RuntimeException e) {
            log.warn("cleanup step failed", "step", step.name(), "error", String.valueOf(e));
        }
    }

    /**
     * Runs one step outside a teardown (e.g. within a container's removal, whose failure the caller must see):
     * logs its wall time like {@link #run} does, and lets its exception through.
     */
    static void timed(String name, Runnable action, LogfmtLog log) {
        long start = System.nanoTime();
        try {
            action.run();
        } finally {
            if (log.enabled(LogfmtLog.Level.DEBUG)) {
                log.debug("teardown step", "step", name,
                        "duration_ms", String.format(java.util.Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e6));
            }
        }
    }
}
