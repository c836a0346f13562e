package dev.podvisor.it.support;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/** Polling a condition against a deadline (tests never sleep to synchronise). */
public final class Poll {

    private Poll() {
    }

    /**
     * Calls {@code probe} every 50 ms until it answers {@code wanted} or {@code timeout} passed.
     *
     * @return the last answer (equal to {@code wanted} unless the time ran out)
     */
    public static <T> T until(Supplier<T> probe, T wanted, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        T seen = probe.get();
        while (!seen.equals(wanted) && System.nanoTime() < deadline) {
            LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
            seen = probe.get();
        }
        return seen;
    }
}
