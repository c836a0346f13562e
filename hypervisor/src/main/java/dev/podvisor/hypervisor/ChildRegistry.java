package dev.podvisor.hypervisor;

import dev.podvisor.storage.linux.Linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every process a sandbox owns (the shim daemon itself, cloud-hypervisor, each virtiofsd), recorded the moment
 * it starts in {@code <dir>/children}, one line per process: {@code <kind> <pid> <start ticks>}, appended
 * (O_APPEND, mode 0600) before anything else can fail. The start time ({@code /proc/<pid>/stat} field 22, clock
 * ticks since boot) makes a record name one process for ever: a pid the kernel has since reused is never
 * signalled. {@code delete} and the stale-sandbox sweep read the file and stop every recorded process that still
 * runs, all at once, with one budget ({@link #stopAll}).
 *
 * <p>Why a file rather than {@code sandbox.json}: the state is rewritten as a whole after each step, the file is
 * only appended to, so a record can never be lost by a crash between two writes (issue 8, cases 2 and 3).
 */
public final class ChildRegistry {

    /** The kind of the shim daemon's own record. */
    public static final String SHIM = "shim";
    /** The registry's file name inside a sandbox's state directory. */
    public static final String FILE = "children";

    /**
     * One recorded process.
     *
     * @param kind       what it is: {@code shim}, or the base name of the program ({@code cloud-hypervisor}, ...)
     * @param pid        its pid
     * @param startTicks its start time in clock ticks since boot, as the kernel reported it when recorded
     */
    public record Child(String kind, long pid, long startTicks) {
        /** @return whether this very process (same pid and start time) still runs and is not a zombie */
        public boolean isRunning() {
            return ChildRegistry.startTicks(pid).map(t -> t == startTicks).orElse(false);
        }
    }

    private final Path file;

    private ChildRegistry(Path file) {
        this.file = file;
    }

    /** The registry of the sandbox whose state directory is {@code dir}. */
    public static ChildRegistry in(Path dir) {
        return new ChildRegistry(dir.resolve(FILE));
    }

    /** @return the registry file */
    public Path file() {
        return file;
    }

    /**
     * Appends a record for a process that just started. A process already gone is not recorded.
     *
     * @param kind what it is (no white space)
     * @param pid  its pid
     * @throws UncheckedIOException when the file cannot be written
     */
    public void record(String kind, long pid) {
        Optional<Long> ticks = startTicks(pid);
        if (ticks.isEmpty()) {
            return;
        }
        String line = kind.replaceAll("\\s", "_") + " " + pid + " " + ticks.get() + "\n";
        try {
            if (Files.notExists(file)) {
                Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (java.nio.file.FileAlreadyExistsException raced) {
            record(kind, pid);
        } catch (IOException e) {
            throw new UncheckedIOException("recording " + kind + " pid " + pid + " in " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return every recorded process, in the order recorded; empty when there is no file. Bad lines are skipped. */
    public List<Child> children() {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file + ": " + e.getMessage(), e);
        }
        List<Child> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.strip().split(" ");
            if (f.length == 3) {
                try {
                    out.add(new Child(f[0], Long.parseLong(f[1]), Long.parseLong(f[2])));
                } catch (NumberFormatException skipped) {
                    // a torn last line after a crash: nothing to stop there
                }
            }
        }
        return out;
    }

    /**
     * The start time of a live process, in clock ticks since boot ({@code /proc/<pid>/stat} field 22).
     *
     * @param pid the pid
     * @return empty when there is no such process or it is a zombie
     */
    public static Optional<Long> startTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].equals("Z") || f[0].equals("X")) {
                return Optional.empty();
            }
            return Optional.of(Long.parseLong(f[19])); // f[0] is field 3
        } catch (IOException | RuntimeException gone) {
            return Optional.empty();
        }
    }

    /**
     * Stops every process of {@code children} that still runs, all at once: SIGTERM to all, wait up to half of
     * {@code budget}, SIGKILL to those left, wait for the rest of it. A process is signalled only while its pid
     * still has the recorded start time.
     *
     * @param children the processes
     * @param budget   the whole time this may take
     * @return the processes still running when the budget ran out (normally none)
     */
    public static List<Child> stopAll(List<Child> children, Duration budget) {
        long start = System.nanoTime();
        List<Child> running = signal(children, Linux.SIGTERM);
        running = awaitGone(running, start + budget.toNanos() / 2);
        running = signal(running, Linux.SIGKILL);
        return awaitGone(running, start + budget.toNanos());
    }

    private static List<Child> signal(List<Child> children, int signal) {
        List<Child> signalled = new ArrayList<>();
        for (Child child : children) {
            if (child.isRunning() && child.pid() != ProcessHandle.current().pid()) {
                try {
                    Linux.kill((int) child.pid(), signal);
                    signalled.add(child);
                } catch (RuntimeException gone) {
                    // ESRCH: it exited between the check and the signal
                }
            }
        }
        return signalled;
    }

    private static List<Child> awaitGone(List<Child> children, long deadline) {
        List<Child> left = new ArrayList<>(children);
        while (true) {
            left.removeIf(c -> !c.isRunning());
            if (left.isEmpty() || System.nanoTime() >= deadline) {
                return left;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return left;
            }
        }
    }
}
