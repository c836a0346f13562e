package dev.podvisor.it.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * What a test may leave behind on the host, and the check that it left nothing: processes of the shim, the VMM
 * and virtiofsd (real or stand-in) and runc; mounts (from {@code /proc/self/mountinfo}); attached loop devices;
 * unix sockets under given directories.
 *
 * <p>Usage: {@code var before = Leftovers.take(Path.of("/run/podvisor"));} ... run the test ...
 * {@code Leftovers.assertNothingNewSince(before, List.of(tempDir.toString(), containerId));}. The machine is
 * shared with other work, so prefer the overload with markers: it only counts what names this test (a
 * process's argv or its {@code TTRPC_ADDRESS}, a mount's point or source, a loop device's backing file, a
 * socket's path).
 */
public final class Leftovers {

    /** Executable names (argv[0] base name) that count as ours. */
    public static final Set<String> PROCESS_NAMES = Set.of("containerd-shim-kata-v2", "cloud-hypervisor",
            "virtiofsd", "runc");
    /** Java main classes (argv of a {@code java} process) that count as ours: the shim and the testbed. */
    public static final List<String> JAVA_MARKERS = List.of("dev.podvisor.shim.ShimMain", "dev.podvisor.testbed.");

    private Leftovers() {
    }

    /**
     * A process of interest.
     *
     * @param pid          process id
     * @param startTicks   start time in clock ticks since boot ({@code /proc/<pid>/stat} field 22): with the pid,
     *                     identifies the process even if the pid is reused
     * @param cmdline      argv joined with spaces
     * @param ttrpcAddress its {@code TTRPC_ADDRESS} variable (set by containerd for shims, inherited by their
     *                     children), or "" when absent or unreadable
     */
    public record ProcessEntry(long pid, long startTicks, String cmdline, String ttrpcAddress) {
        String text() {
            return cmdline + " TTRPC_ADDRESS=" + ttrpcAddress;
        }
    }

    /**
     * One line of {@code /proc/self/mountinfo}.
     *
     * @param mountId    mount id (field 1)
     * @param mountPoint mount point, unescaped
     * @param fsType     file-system type
     * @param source     mount source, unescaped
     */
    public record MountEntry(int mountId, String mountPoint, String fsType, String source) {
        String text() {
            return mountPoint + " " + fsType + " " + source;
        }
    }

    /**
     * An attached loop device ({@code /sys/block/loopN/loop/backing_file}, what {@code losetup -J} reports as
     * {@code back-file}).
     *
     * @param name        device, e.g. {@code /dev/loop3}
     * @param backingFile backing file path (with " (deleted)" if the kernel says so)
     */
    public record LoopDevice(String name, String backingFile) {
    }

    /**
     * The state at one moment.
     *
     * @param processes   processes of interest (see {@link #PROCESS_NAMES}, {@link #JAVA_MARKERS}), not zombies
     * @param mounts      all mounts of this JVM's mount namespace
     * @param loopDevices attached loop devices
     * @param sockets     unix sockets found (recursively) under {@code socketDirs}
     * @param socketDirs  the directories searched for sockets (missing ones are fine)
     */
    public record Snapshot(Set<ProcessEntry> processes, Set<MountEntry> mounts, Set<LoopDevice> loopDevices,
                           Set<Path> sockets, List<Path> socketDirs) {
    }

    /**
     * Takes a snapshot.
     *
     * @param socketDirs directories to search for unix sockets (e.g. {@code /run/podvisor}); may be none
     * @return the snapshot
     */
    public static Snapshot take(Path... socketDirs) {
        List<Path> dirs = List.of(socketDirs);
        return new Snapshot(processes(), mounts(), loopDevices(), sockets(dirs), dirs);
    }

    /**
     * Waits, at most {@code timeout} per process, for every process of interest that is new since {@code before}
     * and names a marker (in its argv or TTRPC_ADDRESS) to exit. containerd answers a task delete or
     * RemovePodSandbox before the shim daemon and what it started have exited; call this before
     * {@link #assertNothingNewSince}, which then reports whatever still runs.
     *
     * @param before  an earlier snapshot
     * @param markers strings identifying this test's processes (ids, temp dirs)
     * @param timeout how long to wait for each one
     */
    public static void awaitExitOfNew(Snapshot before, Collection<String> markers, java.time.Duration timeout) {
        for (ProcessEntry p : processes()) {
            String text = p.cmdline() + " " + p.ttrpcAddress();
            if (!before.processes().contains(p) && p.pid() != ProcessHandle.current().pid() && names(text, markers)) {
                ProcessHandle.of(p.pid()).ifPresent(h -> {
                    try {
                        h.onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException stillRunning) {
                        // reported by the leftover check that follows
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
            }
        }
    }

    /**
     * Everything new since {@code before}, as one line per item, limited to items naming a marker.
     *
     * @param before  an earlier snapshot
     * @param markers strings (temp dirs, container ids, socket paths) that identify this test's items; empty means
     *                every new item counts
     * @return descriptions of new items; empty when nothing is left
     */
    public static List<String> newSince(Snapshot before, Collection<String> markers) {
        Snapshot now = take(before.socketDirs().toArray(Path[]::new));
        List<String> found = new ArrayList<>();
        for (ProcessEntry p : now.processes()) {
            if (!before.processes().contains(p) && p.pid() != ProcessHandle.current().pid() && names(p.text(), markers)) {
                found.add("process " + p.pid() + ": " + p.cmdline()
                        + (p.ttrpcAddress().isEmpty() ? "" : " (TTRPC_ADDRESS=" + p.ttrpcAddress() + ")"));
            }
        }
        for (MountEntry m : now.mounts()) {
            if (!before.mounts().contains(m) && names(m.text(), markers)) {
                found.add("mount " + m.mountPoint() + " (" + m.fsType() + " from " + m.source() + ")");
            }
        }
        for (LoopDevice l : now.loopDevices()) {
            if (!before.loopDevices().contains(l) && names(l.backingFile(), markers)) {
                found.add("loop device " + l.name() + " backed by " + l.backingFile());
            }
        }
        for (Path s : now.sockets()) {
            if (!before.sockets().contains(s) && names(s.toString(), markers)) {
                found.add("socket " + s);
            }
        }
        return found;
    }

    /**
     * Asserts that nothing appeared since {@code before} (any new process of interest, mount, loop device or
     * socket counts, whoever made it).
     *
     * @param before an earlier snapshot
     * @throws AssertionError listing every new item
     */
    public static void assertNothingNewSince(Snapshot before) {
        assertNothingNewSince(before, List.of());
    }

    /**
     * Asserts that nothing naming one of {@code markers} appeared since {@code before}.
     *
     * @param before  an earlier snapshot
     * @param markers strings identifying this test's items (see {@link #newSince})
     * @throws AssertionError listing every new item
     */
    public static void assertNothingNewSince(Snapshot before, Collection<String> markers) {
        List<String> found = newSince(before, markers);
        if (!found.isEmpty()) {
            throw new AssertionError("left behind:\n  " + String.join("\n  ", found));
        }
    }

    private static boolean names(String text, Collection<String> markers) {
        return markers.isEmpty() || markers.stream().anyMatch(m -> !m.isEmpty() && text.contains(m));
    }

    private static Set<ProcessEntry> processes() {
        Set<ProcessEntry> out = new LinkedHashSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path dir : s.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                ProcessEntry e = process(dir);
                if (e != null) {
                    out.add(e);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return out;
    }

    /** @return the entry for /proc/<pid>, or null when it is not of interest, a zombie, or gone */
    private static ProcessEntry process(Path dir) {
        try {
            byte[] raw = Files.readAllBytes(dir.resolve("cmdline"));
            if (raw.length == 0) {
                return null; // kernel thread or zombie
            }
            String[] argv = new String(raw, StandardCharsets.UTF_8).split("\0");
            String argv0 = argv[0].substring(argv[0].lastIndexOf('/') + 1);
            String cmdline = String.join(" ", argv);
            boolean ours = PROCESS_NAMES.contains(argv0) || JAVA_MARKERS.stream().anyMatch(cmdline::contains);
            if (!ours) {
                return null;
            }
            String stat = Files.readString(dir.resolve("stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (f[0].equals("Z") || f[0].equals("X")) {
                return null;
            }
            long startTicks = Long.parseLong(f[19]); // field 22 overall; f[0] is field 3
            String ttrpc = "";
            try {
                for (String kv : new String(Files.readAllBytes(dir.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
                    if (kv.startsWith("TTRPC_ADDRESS=")) {
                        ttrpc = kv.substring("TTRPC_ADDRESS=".length());
                    }
                }
            } catch (IOException notReadable) {
                // another user's process, when not root
            }
            return new ProcessEntry(Long.parseLong(dir.getFileName().toString()), startTicks, cmdline, ttrpc);
        } catch (IOException | RuntimeException gone) {
            return null; // exited while we looked
        }
    }

    private static Set<MountEntry> mounts() {
        Set<MountEntry> out = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                int sep = List.of(f).indexOf("-");
                if (f.length < 10 || sep < 6 || sep + 2 >= f.length) {
                    continue;
                }
                out.add(new MountEntry(Integer.parseInt(f[0]), unescape(f[4]), f[sep + 1], unescape(f[sep + 2])));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/mountinfo", e);
        }
        return out;
    }

    /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Set<LoopDevice> loopDevices() {
        Set<LoopDevice> out = new LinkedHashSet<>();
        try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
            for (Path dev : s.filter(p -> p.getFileName().toString().startsWith("loop")).sorted().toList()) {
                Path back = dev.resolve("loop/backing_file");
                try {
                    if (Files.exists(back)) {
                        out.add(new LoopDevice("/dev/" + dev.getFileName(), Files.readString(back).strip()));
                    }
                } catch (IOException detached) {
                    // detached while we looked
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /sys/block", e);
        }
        return out;
    }

    private static Set<Path> sockets(List<Path> dirs) {
        Set<Path> out = new LinkedHashSet<>();
        for (Path dir : dirs) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(Leftovers::isSocket).forEach(out::add);
            } catch (IOException | java.io.UncheckedIOException e) {
                // the tree changed while we walked it: what we saw is kept
            }
        }
        return out;
    }

    private static boolean isSocket(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }
}
