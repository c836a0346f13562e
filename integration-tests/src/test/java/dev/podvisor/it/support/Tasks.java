package dev.podvisor.it.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * ctr task scenarios shared by the ctr-driven tests, and waiting for what containerd and its shims do
 * asynchronously, polled with a deadline (never a sleep).
 */
public final class Tasks {

    private Tasks() {
    }

    /**
     * {@code ctr run --rm --runtime RUNTIME IMAGE ID COMMAND...}.
     *
     * @return the result (never throws for a non-zero exit)
     */
    public static CommandResult runRm(PrivateContainerd containerd, Duration timeout, String runtime, String image,
                                      String id, String... command) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", runtime, image, id));
        args.addAll(List.of(command));
        return containerd.ctr(timeout, args.toArray(String[]::new));
    }

    /**
     * {@code ctr run --rm -t} under script(1) (ctr -t needs a terminal on its own stdin) whose terminal is 40 rows
     * by 120 columns: the container prints its tty, waits until its pty has that size (ctr sends the window
     * size, ResizePty, only after Start; busybox stty exits 0 even without a size, so it waits for the value)
     * and prints {@code stty size}. A lost resize ends in the timeout.
     *
     * @return the result; its stdout holds {@code /dev/pts/N} and {@code 40 120} when all went well
     */
    public static CommandResult runWithTerminal(PrivateContainerd containerd, Duration timeout, String runtime,
                                                String image, String id) {
        String ctr = String.join(" ", "stty rows 40 cols 120;", containerd.ctrBinary(), "--address",
                containerd.address().toString(), "run", "--rm", "-t", "--runtime", runtime, image, id,
                "sh -c 'tty; until [ \"$(stty size 2>/dev/null)\" = \"40 120\" ]; do :; done; stty size'");
        return Commands.run(List.of("script", "-qec", ctr, "/dev/null"), new byte[0], timeout, Map.of());
    }

    /**
     * Polls {@code ctr task ls} until task {@code id} has {@code status} (RUNNING, STOPPED, PAUSED...).
     *
     * @return the status last seen: {@code status}, or another one when {@code timeout} passed first
     */
    public static String awaitStatus(PrivateContainerd containerd, String id, String status, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String seen = "";
        while (System.nanoTime() < deadline) {
            CommandResult tasks = containerd.ctr("task", "ls");
            for (String line : tasks.stdout().lines().toList()) {
                String[] columns = line.trim().split("\\s+");
                if (columns.length >= 3 && columns[0].equals(id)) {
                    seen = columns[2];
                }
            }
            if (seen.equals(status)) {
                return seen;
            }
            Thread.onSpinWait();
        }
        return seen;
    }

}
