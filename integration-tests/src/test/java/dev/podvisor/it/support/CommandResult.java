package dev.podvisor.it.support;

import java.time.Duration;
import java.util.List;

/**
 * The outcome of one external command run by the test support ({@link Commands}).
 *
 * @param command  the argv that ran
 * @param exitCode the exit code; -1 when the command was killed after its timeout
 * @param stdout   everything it wrote on stdout, decoded as UTF-8
 * @param stderr   everything it wrote on stderr, decoded as UTF-8
 * @param elapsed  wall time from start to exit
 * @param timedOut whether the command was killed (with its descendants) because it ran past its timeout
 */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr, Duration elapsed,
                            boolean timedOut) {

    /** Copies the argv list. */
    public CommandResult {
        command = List.copyOf(command);
    }

    /** @return whether the command exited with 0 (and was not killed) */
    public boolean ok() {
        return exitCode == 0 && !timedOut;
    }

    /**
     * @return this result, when {@link #ok()}
     * @throws AssertionError naming the command, its exit code, stdout and stderr, otherwise
     */
    public CommandResult requireSuccess() {
        if (!ok()) {
            throw new AssertionError("command failed: " + this);
        }
        return this;
    }

    /** @return stdout without trailing line breaks and spaces */
    public String out() {
        return stdout.stripTrailing();
    }

    @Override
    public String toString() {
        return String.join(" ", command) + " -> " + (timedOut ? "timed out after " + elapsed.toMillis() + " ms"
                : "exit " + exitCode + " (" + elapsed.toMillis() + " ms)")
                + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
}
