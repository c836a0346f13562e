package dev.podvisor.sandbox.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The cgroups of one sandbox, placed as Kata places them (virtcontainers sandbox.go {@code createResourceController},
 * {@code setupResourceController}, {@code constrainHypervisor}, {@code resourceControllerDelete}), and their owner:
 * it remembers every directory it created and removes them, deepest first, at {@link #release}.
 *
 * <ul>
 *   <li>The sandbox cgroup is {@link CgroupsPath#sandboxCgroup()} of the sandbox container's
 *       {@code linux.cgroupsPath} (kubelet's pod cgroup plus {@code kata_<sandbox id>}), created in every hierarchy
 *       ({@link Hierarchy#parse}); missing parents are created too (and removed later).</li>
 *   <li>{@code sandbox_cgroup_only = true}: the shim joins the sandbox cgroup before it starts anything, so the
 *       VMM and virtiofsd, its children, are born there: kubelet's pod accounting, limits and eviction see the
 *       whole VM.</li>
 *   <li>{@code sandbox_cgroup_only = false} (Kata's default): the shim joins the overhead cgroup
 *       {@code /kata_overhead/<sandbox id>}, so the VMM and virtiofsd are born there, and only the VMM's vCPU threads
 *       (Cloud Hypervisor names them {@code vcpu<N>}) move to the sandbox cgroup ({@link #constrainVcpus}).</li>
 * </ul>
 * cgroup v1 writes pids to {@code cgroup.procs} and vCPU thread ids to {@code tasks}; v2 to {@code cgroup.procs}
 * and {@code cgroup.threads}. A new v1 cpuset cgroup gets its parent's {@code cpuset.cpus} and {@code cpuset.mems}
 * first (the kernel refuses tasks in an empty cpuset), as containerd/cgroups does. Resource limits are left to the
 * parent kubelet made; Podvisor writes none (Kata writes only a device allowlist and a cpuset).
 */
public final class Cgroups {

    /** How long {@link #release} waits for exiting processes to leave a cgroup before giving up on it. */
    static final Duration RMDIR_PATIENCE = Duration.ofSeconds(5);

    private final List<Hierarchy> hierarchies;
    private final CgroupFiles files;
    private final String sandboxCgroup;
    private final String shimCgroup;
    private final List<Path> created = new ArrayList<>();

    private Cgroups(List<Hierarchy> hierarchies, CgroupFiles files, String sandboxCgroup, String shimCgroup) {
        this.hierarchies = List.copyOf(hierarchies);
        this.files = files;
        this.sandboxCgroup = sandboxCgroup;
        this.shimCgroup = shimCgroup;
    }

    /**
     * Creates the sandbox's cgroups and moves the shim process {@code shimPid} into its cgroup.
     *
     * @param path              the sandbox container's parsed {@code linux.cgroupsPath}
     * @param sandboxId         the sandbox id (names the overhead cgroup)
     * @param sandboxCgroupOnly Kata's {@code sandbox_cgroup_only}
     * @param shimPid           the process to place (the shim daemon)
     * @param hierarchies       where ({@link Hierarchy#parse}); none means nothing is done
     * @param files             the file operations ({@link CgroupFiles#LIVE})
     * @throws UncheckedIOException when a cgroup cannot be created or joined; what was created is removed again
     */
    public static Cgroups place(CgroupsPath path, String sandboxId, boolean sandboxCgroupOnly, long shimPid,
                                List<Hierarchy> hierarchies, CgroupFiles files) {
        String sandbox = path.sandboxCgroup();
        String shim = sandboxCgroupOnly ? sandbox : CgroupsPath.overheadCgroup(sandboxId);
        Cgroups cgroups = new Cgroups(hierarchies, files, sandbox, shim);
        try {
            for (Hierarchy h : hierarchies) {
                cgroups.createAll(h, sandbox);
                if (!sandboxCgroupOnly) {
                    cgroups.adoptShared(h.dir(CgroupsPath.OVERHEAD_PARENT));
                    cgroups.createAll(h, shim);
                }
                files.write(h.dir(shim).resolve("cgroup.procs"), Long.toString(shimPid));
            }
            return cgroups;
        } catch (RuntimeException e) {
            try {
                cgroups.release(shimPid, Duration.ZERO, message -> { });
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
    }

    /** The hierarchy-relative sandbox cgroup ({@code /kubepods/.../pod<uid>/kata_<sid>}). */
    public String sandboxCgroup() {
        return sandboxCgroup;
    }

    /** The hierarchy-relative cgroup the shim (and its children) live in. */
    public String shimCgroup() {
        return shimCgroup;
    }

    /** The directories this owner created, in creation order (absolute paths), to persist for {@code delete}. */
    public synchronized List<String> created() {
        return created.stream().map(Path::toString).toList();
    }

    /**
     * With the overhead split, moves the vCPU threads of {@code vmmPid} ({@code /proc/<pid>/task/<tid>/comm}
     * starting with {@code vcpu}) into the sandbox cgroup (Kata {@code constrainHypervisor}); nothing to do when the
     * shim already lives in the sandbox cgroup.
     *
     * @param procRoot {@code /proc}
     * @return the thread ids moved
     */
    public List<Long> constrainVcpus(Path procRoot, long vmmPid, Consumer<String> warn) {
        if (shimCgroup.equals(sandboxCgroup)) {
            return List.of();
        }
        List<Long> moved = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(procRoot.resolve(Long.toString(vmmPid)).resolve("task"))) {
            for (Path task : tasks.toList()) {
                String comm = files.read(task.resolve("comm")).orElse("");
                if (!comm.startsWith("vcpu")) {
                    continue;
                }
                long tid = Long.parseLong(task.getFileName().toString());
                for (Hierarchy h : hierarchies) {
                    String file = h.unified() ? "cgroup.threads" : "tasks";
                    try {
                        files.write(h.dir(sandboxCgroup).resolve(file), Long.toString(tid));
                    } catch (UncheckedIOException e) {
                        warn.accept("vCPU thread " + tid + " not moved: " + e.getMessage());
                    }
                }
                moved.add(tid);
            }
        } catch (IOException e) {
            warn.accept("threads of the VMM " + vmmPid + " not listed: " + e.getMessage());
        }
        return moved;
    }

    /**
     * Moves {@code shimPid} back to the cgroups it came from and removes every directory this owner created,
     * deepest first, waiting up to {@code patience} for exiting processes to leave. Idempotent.
     *
     * @param warn told about a cgroup that could not be removed
     */
    public synchronized void release(long shimPid, Duration patience, Consumer<String> warn) {
        for (Hierarchy h : hierarchies) {
            try {
                if (ProcessHandle.of(shimPid).isPresent()) {
                    files.write(h.dir(h.current()).resolve("cgroup.procs"), Long.toString(shimPid));
                }
            } catch (UncheckedIOException e) {
                warn.accept("shim not moved back to " + h.dir(h.current()) + ": " + e.getMessage());
            }
        }
        List<Path> dirs = new ArrayList<>(created);
        Collections.reverse(dirs);
        remove(dirs.stream().map(Path::toString).toList(), files, patience, warn);
        created.clear();
    }

    /**
     * Removes cgroup directories, in the order given (deepest first), each waited for up to {@code patience}
     * while processes leave it; a directory already gone is fine, one with child cgroups (a parent shared with
     * another sandbox) is left at once.
     */
    public static void remove(List<String> dirsDeepestFirst, CgroupFiles files, Duration patience, Consumer<String> warn) {
        remove(dirsDeepestFirst, files, patience, false, warn);
    }

    /**
     * What {@code delete} calls with the persisted list, reversed, when the shim died: every process still in one
     * of these cgroups was started for this sandbox (the VM's), so it is killed (SIGKILL) before the directory is
     * removed; then as {@link #remove(List, CgroupFiles, Duration, Consumer)}.
     */
    public static void removeKillingStragglers(List<String> dirsDeepestFirst, CgroupFiles files, Duration patience,
                                               Consumer<String> warn) {
        remove(dirsDeepestFirst, files, patience, true, warn);
    }

    private static void remove(List<String> dirsDeepestFirst, CgroupFiles files, Duration patience, boolean kill,
                               Consumer<String> warn) {
        for (String dir : dirsDeepestFirst) {
            Path path = Path.of(dir);
            if (hasChildCgroup(path)) {
                continue; // a shared parent another sandbox still uses: it removes it when it ends
            }
            if (kill) {
                for (String pid : files.read(path.resolve("cgroup.procs")).orElse("").split("\\s+")) {
                    if (!pid.isEmpty() && !pid.equals(Long.toString(ProcessHandle.current().pid()))) {
                        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
                    }
                }
            }
            long deadline = System.nanoTime() + patience.toNanos();
            while (true) {
                if (files.rmdir(path) || !Files.exists(path)) {
                    break;
                }
                if (System.nanoTime() >= deadline) {
                    warn.accept("cgroup " + path + " still busy; left in place");
                    break;
                }
                try {
                    Thread.sleep(20); // waiting for exiting processes; polled against a deadline
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** mkdir -p of {@code path} in {@code h}, recording what it made; a v1 cpuset gets its parent's cpus and mems. */
    private synchronized void createAll(Hierarchy h, String path) {
        Path target = h.dir(path);
        Path relative = h.mountPoint().relativize(target);
        Path dir = h.mountPoint();
        for (Path element : relative) {
            Path parent = dir;
            dir = dir.resolve(element);
            if (files.mkdir(dir)) {
                created.add(dir);
                if (h.key().contains("cpuset")) {
                    inherit(parent, dir, "cpuset.cpus");
                    inherit(parent, dir, "cpuset.mems");
                }
            }
        }
    }

    /**
     * Records {@code /kata_overhead} (shared by every sandbox) even when another sandbox made it, so whichever
     * sandbox ends last removes it: {@link #remove} leaves a directory that still has children at once.
     */
    private synchronized void adoptShared(Path dir) {
        if (!created.contains(dir) && Files.isDirectory(dir)) {
            created.add(dir);
        }
    }

    private static boolean hasChildCgroup(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.anyMatch(Files::isDirectory);
        } catch (IOException e) {
            return false;
        }
    }

    private void inherit(Path parent, Path dir, String file) {
        if (files.read(dir.resolve(file)).orElse("").isEmpty()) {
            String value = files.read(parent.resolve(file)).orElse("");
            if (!value.isEmpty()) {
                files.write(dir.resolve(file), value);
            }
        }
    }
}
