package dev.podvisor.storage.exec;

import dev.podvisor.storage.plan.RootfsMount;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/** In-memory MountOperations and DiskAttacher: paths, a mount stack per target, attached disks, injectable failures. */
final class FakeHost implements MountOperations, DiskAttacher {

    final Set<Path> dirs = new HashSet<>();
    final Set<Path> files = new HashSet<>();
    final Map<Path, Deque<String>> mounts = new HashMap<>();
    final Map<String, Path> disks = new HashMap<>();
    final List<String> log = new ArrayList<>();
    Predicate<String> failWhen = op -> false;
    private int nextDisk = 3;

    FakeHost(String... existing) {
        for (String p : existing) {
            for (Path q = Path.of(p); q != null; q = q.getParent()) {
                dirs.add(q);
            }
        }
    }

    private void op(String what) {
        log.add(what);
        if (failWhen.test(what)) {
            throw new IllegalStateException("injected failure: " + what);
        }
    }

    private boolean exists(Path p) {
        return dirs.contains(p) || files.contains(p);
    }

    @Override
    public void bind(Path source, Path target, boolean readOnly) {
        op("bind " + source + " " + target + (readOnly ? " ro" : " rw"));
        if (!exists(target)) {
            throw new IllegalStateException("bind target " + target + " does not exist");
        }
        mounts.computeIfAbsent(target, k -> new ArrayDeque<>()).push("bind " + source + (readOnly ? " ro" : " rw"));
    }

    @Override
    public void remountReadOnly(Path target) {
        op("remount-ro " + target);
    }

    @Override
    public void makeSlave(Path target) {
        op("make-slave " + target);
    }

    @Override
    public void makeShared(Path target) {
        op("make-shared " + target);
    }

    @Override
    public void mount(String fstype, String source, Path target, List<String> options) {
        op("mount " + fstype + " " + source + " " + target);
        mounts.computeIfAbsent(target, k -> new ArrayDeque<>()).push(fstype + " " + source);
    }

    @Override
    public boolean unmount(Path target) {
        log.add("unmount " + target);
        Deque<String> stack = mounts.get(target);
        if (stack == null || stack.isEmpty()) {
            return false;
        }
        stack.pop();
        if (stack.isEmpty()) {
            mounts.remove(target);
        }
        return true;
    }

    @Override
    public void mkdirs(Path dir) {
        op("mkdirs " + dir);
        for (Path q = dir; q != null; q = q.getParent()) {
            dirs.add(q);
        }
    }

    @Override
    public void touch(Path file) {
        op("touch " + file);
        if (!dirs.contains(file.getParent())) {
            throw new IllegalStateException("touch " + file + ": no parent");
        }
        files.add(file);
    }

    @Override
    public boolean createSparseFile(Path file, long sizeBytes) {
        op("sparse " + file + " " + sizeBytes);
        return files.add(file);
    }

    @Override
    public boolean remove(Path path) {
        log.add("remove " + path);
        if (mounts.containsKey(path)) {
            throw new IllegalStateException("remove " + path + ": busy (mounted)");
        }
        if (files.remove(path)) {
            return true;
        }
        if (!dirs.contains(path)) {
            return false;
        }
        boolean empty = dirs.stream().noneMatch(d -> d.getParent() != null && d.getParent().equals(path))
                && files.stream().noneMatch(f -> f.getParent().equals(path));
        return empty && dirs.remove(path);
    }

    @Override
    public AttachedDisk attach(Path hostPath, boolean readOnly) {
        op("attach " + hostPath + (readOnly ? " ro" : " rw"));
        String id = "_disk" + disks.size() + "-" + nextDisk;
        disks.put(id, hostPath);
        return new AttachedDisk(id, String.format("%02x", nextDisk++));
    }

    @Override
    public void detach(String id) {
        log.add("detach " + id);
        disks.remove(id);
    }

    /** Every path under {@code root} (dirs and files), for "nothing left behind" checks. */
    Set<Path> pathsUnder(String root) {
        Set<Path> out = new HashSet<>();
        for (Path p : dirs) {
            if (p.startsWith(root)) {
                out.add(p);
            }
        }
        for (Path p : files) {
            if (p.startsWith(root)) {
                out.add(p);
            }
        }
        return out;
    }

    static RootfsMount overlay() {
        return new RootfsMount("overlay", "overlay", List.of("lowerdir=/l", "upperdir=/u", "workdir=/w"));
    }
}
