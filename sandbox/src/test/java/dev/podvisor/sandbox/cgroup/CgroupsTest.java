package dev.podvisor.sandbox.cgroup;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Placement and cleanup against fake cgroup trees (plain directories). */
class CgroupsTest {

    @TempDir
    Path root;

    /**
     * A plain directory tree standing in for cgroupfs: mkdir and read as on cgroupfs; a write creates the file and
     * moves a pid between cgroups of one hierarchy; rmdir refuses while a child directory or a pid remains.
     */
    final class FakeFiles implements CgroupFiles {
        final List<String> writes = new ArrayList<>();
        String failOn;

        @Override
        public boolean mkdir(Path dir) {
            return CgroupFiles.LIVE.mkdir(dir);
        }

        @Override
        public Optional<String> read(Path file) {
            return CgroupFiles.LIVE.read(file);
        }

        @Override
        public void write(Path file, String value) {
            if (failOn != null && file.toString().contains(failOn)) {
                throw new UncheckedIOException(new IOException("injected: " + file));
            }
            try {
                if (file.getFileName().toString().equals("cgroup.procs")) {
                    removeFromOthers(file, value);
                }
                Files.writeString(file, value);
                writes.add(file + "=" + value);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** A process is in one cgroup per hierarchy: joining one leaves the others of the same hierarchy. */
        private void removeFromOthers(Path joined, String pid) throws IOException {
            Path hierarchy = root.resolve(root.relativize(joined).getName(0));
            for (String w : writes) {
                Path p = Path.of(w.substring(0, w.indexOf('=')));
                if (p.startsWith(hierarchy) && p.getFileName().toString().equals("cgroup.procs") && Files.exists(p)
                        && Files.readString(p).equals(pid)) {
                    Files.writeString(p, "");
                }
            }
        }

        @Override
        public boolean rmdir(Path dir) {
            try (Stream<Path> children = Files.list(dir)) {
                for (Path child : children.toList()) {
                    String name = child.getFileName().toString();
                    boolean member = name.equals("cgroup.procs") || name.equals("tasks");
                    if (Files.isDirectory(child) || member && !Files.readString(child).isBlank()) {
                        return false;
                    }
                }
                try (Stream<Path> files = Files.list(dir)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(dir);
                return true;
            } catch (java.nio.file.NoSuchFileException e) {
                return false;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private List<Hierarchy> v1() throws IOException {
        for (String c : List.of("cpu", "memory", "cpuset")) {
            Files.createDirectories(root.resolve(c).resolve("kubepods"));
        }
        Files.writeString(root.resolve("cpuset/cpuset.cpus"), "0-1");
        Files.writeString(root.resolve("cpuset/cpuset.mems"), "0");
        Files.writeString(root.resolve("cpuset/kubepods/cpuset.cpus"), "0-1");
        Files.writeString(root.resolve("cpuset/kubepods/cpuset.mems"), "0");
        String mountinfo = String.join("\n",
                "1 0 0:1 / " + root.resolve("cpu") + " rw - cgroup cgroup rw,cpu",
                "2 0 0:2 / " + root.resolve("memory") + " rw - cgroup cgroup rw,memory",
                "3 0 0:3 / " + root.resolve("cpuset") + " rw - cgroup cgroup rw,cpuset");
        return Hierarchy.parse(mountinfo, "3:cpu:/\n2:memory:/\n1:cpuset:/\n");
    }

    private List<Hierarchy> v2() throws IOException {
        Files.createDirectories(root.resolve("unified/kubepods.slice"));
        return Hierarchy.parse("1 0 0:1 / " + root.resolve("unified") + " rw - cgroup2 cgroup2 rw", "0::/\n");
    }

    private static long pid() {
        return ProcessHandle.current().pid();
    }

    @Test
    void sandboxCgroupOnlyPutsTheShimInKataSandboxUnderThePodAndCleansUp() throws IOException {
        FakeFiles files = new FakeFiles();
        Cgroups cg = Cgroups.place(CgroupsPath.parse("/kubepods/pod1/sb1"), "sb1", true, pid(), v1(), files);
        assertEquals("/kubepods/pod1/kata_sb1", cg.sandboxCgroup());
        assertEquals(cg.sandboxCgroup(), cg.shimCgroup());
        for (String c : List.of("cpu", "memory", "cpuset")) {
            assertEquals(Long.toString(pid()), Files.readString(root.resolve(c + "/kubepods/pod1/kata_sb1/cgroup.procs")), c);
        }
        assertEquals("0-1", Files.readString(root.resolve("cpuset/kubepods/pod1/cpuset.cpus")), "a new cpuset inherits");
        assertEquals("0", Files.readString(root.resolve("cpuset/kubepods/pod1/kata_sb1/cpuset.mems")));
        assertEquals(6, cg.created().size(), "pod1 and kata_sb1 in three hierarchies: " + cg.created());
        assertTrue(Files.exists(root.resolve("overhead")) == false && !Files.exists(root.resolve("cpu/kata_overhead")));

        cg.release(pid(), Duration.ofSeconds(1), m -> fail(m));
        for (String c : List.of("cpu", "memory", "cpuset")) {
            assertFalse(Files.exists(root.resolve(c + "/kubepods/pod1")), c);
            assertTrue(Files.exists(root.resolve(c + "/kubepods")), "what Podvisor did not create stays");
            assertEquals(Long.toString(pid()), Files.readString(root.resolve(c + "/cgroup.procs")), "the shim went back");
        }
        assertTrue(cg.created().isEmpty());
    }

    @Test
    void withoutSandboxCgroupOnlyTheShimGoesToKatasOverheadCgroup() throws IOException {
        FakeFiles files = new FakeFiles();
        Cgroups cg = Cgroups.place(CgroupsPath.parse("/kubepods/pod1/sb1"), "sb1", false, pid(), v1(), files);
        assertEquals("/kata_overhead/sb1", cg.shimCgroup());
        assertTrue(Files.isDirectory(root.resolve("memory/kubepods/pod1/kata_sb1")), "the sandbox cgroup exists for the vCPUs");
        assertEquals(Long.toString(pid()), Files.readString(root.resolve("memory/kata_overhead/sb1/cgroup.procs")));
        assertFalse(Files.exists(root.resolve("memory/kubepods/pod1/kata_sb1/cgroup.procs")));

        Path proc = root.resolve("proc");
        for (String[] t : new String[][] {{"100", "cloud-hyperviso"}, {"101", "vcpu0"}, {"102", "vcpu1"}, {"103", "http-server"}}) {
            Files.createDirectories(proc.resolve("100/task/" + t[0]));
            Files.writeString(proc.resolve("100/task/" + t[0] + "/comm"), t[1] + "\n");
        }
        List<Long> moved = cg.constrainVcpus(proc, 100, m -> fail(m));
        assertEquals(List.of(101L, 102L), moved.stream().sorted().toList());
        assertTrue(files.writes.contains(root.resolve("cpu/kubepods/pod1/kata_sb1/tasks") + "=101"), files.writes.toString());

        Files.writeString(root.resolve("cpu/kubepods/pod1/kata_sb1/tasks"), ""); // the VMM exited
        Files.writeString(root.resolve("memory/kubepods/pod1/kata_sb1/tasks"), "");
        Files.writeString(root.resolve("cpuset/kubepods/pod1/kata_sb1/tasks"), "");
        cg.release(pid(), Duration.ofSeconds(1), m -> fail(m));
        assertFalse(Files.exists(root.resolve("memory/kata_overhead")), "the overhead parent it created is removed when empty");
        assertFalse(Files.exists(root.resolve("cpu/kubepods/pod1")));
    }

    @Test
    void theSharedOverheadParentGoesWithTheLastSandboxWhateverTheOrder() throws IOException {
        FakeFiles files = new FakeFiles();
        List<Hierarchy> hs = v1();
        Cgroups first = Cgroups.place(CgroupsPath.parse("/kubepods/pod1/sb1"), "sb1", false, pid(), hs, files);
        Cgroups second = Cgroups.place(CgroupsPath.parse("/kubepods/pod2/sb2"), "sb2", false, pid(), hs, files);
        long start = System.nanoTime();
        first.release(pid(), Duration.ofSeconds(5), m -> fail(m));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(2).toNanos(), "a parent still in use is not waited for");
        assertTrue(Files.isDirectory(root.resolve("memory/kata_overhead/sb2")));
        assertFalse(Files.exists(root.resolve("memory/kata_overhead/sb1")));
        files.write(root.resolve("memory/kata_overhead/sb2/cgroup.procs"), "");
        second.release(pid(), Duration.ofSeconds(1), m -> fail(m));
        for (String c : List.of("cpu", "memory", "cpuset")) {
            assertFalse(Files.exists(root.resolve(c + "/kata_overhead")), "the last sandbox removes it in " + c);
        }
    }

    @Test
    void v2SystemdPathIsPlacedInTheUnifiedHierarchy() throws IOException {
        FakeFiles files = new FakeFiles();
        Cgroups cg = Cgroups.place(CgroupsPath.parse("kubepods-pod1.slice:cri-containerd:sb1"), "sb1", true, pid(), v2(), files);
        Path scope = root.resolve("unified/kubepods.slice/kubepods-pod1.slice/cri-containerd-sb1.scope");
        assertEquals(Long.toString(pid()), Files.readString(scope.resolve("cgroup.procs")));
        assertEquals(List.of(scope.getParent().toString(), scope.toString()), cg.created());
        cg.release(pid(), Duration.ofSeconds(1), m -> fail(m));
        assertFalse(Files.exists(scope.getParent()));
        assertTrue(Files.exists(root.resolve("unified/kubepods.slice")));
    }

    @Test
    void aFailedPlacementLeavesNoCgroup() throws IOException {
        FakeFiles files = new FakeFiles();
        files.failOn = "memory";
        List<Hierarchy> hs = v1();
        assertThrows(UncheckedIOException.class,
                () -> Cgroups.place(CgroupsPath.parse("/kubepods/pod1/sb1"), "sb1", true, pid(), hs, files));
        files.failOn = null;
        for (String c : List.of("cpu", "memory", "cpuset")) {
            assertFalse(Files.exists(root.resolve(c + "/kubepods/pod1")), c);
        }
    }

    @Test
    void aBusyCgroupIsReportedAfterThePatienceAndRecordedOnesAreRemovedLater() throws IOException {
        FakeFiles files = new FakeFiles();
        Cgroups cg = Cgroups.place(CgroupsPath.parse("/kubepods/pod1/sb1"), "sb1", true, pid(), v1(), files);
        List<String> recorded = cg.created();
        Path busy = root.resolve("memory/kubepods/pod1/kata_sb1/tasks");
        Files.writeString(busy, "4242"); // a process that has not exited yet
        List<String> warnings = new ArrayList<>();
        cg.release(pid(), Duration.ofMillis(50), warnings::add);
        assertTrue(warnings.stream().anyMatch(w -> w.contains("kata_sb1") && w.contains("busy")), warnings.toString());
        Files.writeString(busy, "");
        List<String> deepestFirst = new ArrayList<>(recorded);
        java.util.Collections.reverse(deepestFirst);
        Cgroups.remove(deepestFirst, files, Duration.ofSeconds(1), m -> fail(m));
        assertFalse(Files.exists(root.resolve("memory/kubepods/pod1")));
    }
}
