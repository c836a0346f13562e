package dev.podvisor.it.support;

import dev.podvisor.sandbox.cgroup.Hierarchy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * A kubelet-like pod cgroup for a test, and what a test reads back: which cgroup a process is in
 * ({@code /proc/<pid>/cgroup}) and whether Kata's sandbox cgroups are gone. The pod cgroup lives under a unique
 * parent ({@code /podvisor-it-<id>/pod<uid>}) in every hierarchy and is removed by {@link #close}.
 */
public final class PodCgroups implements AutoCloseable {

    private final String parent;
    private final String pod;

    private PodCgroups(String parent, String pod) {
        this.parent = parent;
        this.pod = pod;
    }

    /**
     * Creates {@code /<parentName>/pod<uid>} in every hierarchy, as kubelet creates a pod's cgroup before
     * RunPodSandbox (a cpuset cgroup gets its parent's cpus and mems).
     */
    public static PodCgroups create(String parentName, String uid) {
        PodCgroups cgroups = new PodCgroups("/" + parentName, "/" + parentName + "/pod" + uid);
        for (Hierarchy h : hierarchies()) {
            Path dir = h.dir(cgroups.pod);
            sh("mkdir -p " + dir);
            if (h.key().contains("cpuset")) {
                copyCpuset(h.dir("/"), h.dir(cgroups.parent));
                copyCpuset(h.dir(cgroups.parent), dir);
            }
        }
        return cgroups;
    }

    /** The pod cgroup, hierarchy-relative: what kubelet passes as CRI {@code cgroup_parent}. */
    public String path() {
        return pod;
    }

    /** The hierarchies of this machine, as Podvisor chooses them. */
    public static List<Hierarchy> hierarchies() {
        try {
            return Hierarchy.parse(Files.readString(Path.of("/proc/self/mountinfo")),
                    Files.readString(Path.of("/proc/self/cgroup")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The process's cgroup in the v1 memory hierarchy (or the v2 unified one), from {@code /proc/<pid>/cgroup}. */
    public static String memoryCgroupOf(long pid) {
        String unified = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
                String[] f = line.split(":", 3);
                if (List.of(f[1].split(",")).contains("memory")) {
                    return f[2];
                }
                if (f[0].equals("0")) {
                    unified = f[2];
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("reading the cgroups of process " + pid, e);
        }
        return unified;
    }

    /**
     * Whether the hierarchy-relative cgroup {@code path} is gone from every hierarchy, waiting up to 20 s (the
     * shim removes its cgroups as it exits, after containerd answered).
     */
    public static boolean awaitGoneEverywhere(String path) {
        for (Hierarchy h : hierarchies()) {
            Path dir = h.dir(path);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (Files.exists(dir) && System.nanoTime() < deadline) {
                LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // polling the condition against a deadline
            }
            if (Files.exists(dir)) {
                return false;
            }
        }
        return true;
    }

    /** Whether the hierarchy-relative cgroup {@code path} exists in every hierarchy. */
    public static boolean existsEverywhere(String path) {
        return hierarchies().stream().allMatch(h -> Files.isDirectory(h.dir(path)));
    }

    /**
     * Removes the pod cgroup and its parent; after a failed test also whatever is left below them (all of it
     * this test's: the parent's name is unique).
     */
    @Override
    public void close() {
        for (Hierarchy h : hierarchies()) {
            Commands.run(List.of("sh", "-c", "find " + h.dir(pod) + " -mindepth 1 -depth -type d -exec rmdir {} \\; ; rmdir "
                    + h.dir(pod) + " " + h.dir(parent)));
        }
    }

    private static void copyCpuset(Path from, Path to) {
        sh("cat " + from + "/cpuset.cpus > " + to + "/cpuset.cpus && cat " + from + "/cpuset.mems > " + to + "/cpuset.mems");
    }

    private static void sh(String script) {
        Commands.run(List.of("sh", "-c", script)).requireSuccess();
    }
}
