package dev.podvisor.sandbox.cgroup;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class HierarchyTest {

    static final String HYBRID = String.join("\n",
            "25 24 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755",
            "26 25 0:23 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
            "27 25 0:24 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd",
            "28 25 0:25 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
            "29 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
            "30 25 0:27 /kube /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,clone_children",
            "31 20 8:1 / /data rw - ext4 /dev/sda1 rw");
    static final String SELF = String.join("\n",
            "4:memory:/process_api/abc", "3:cpuacct,cpu:/", "2:cpuset:/kube/x", "1:name=systemd:/init.scope", "0::/init.scope");

    @Test
    void v1AndHybridUseEveryV1HierarchyAndLeaveUnifiedAlone() {
        List<Hierarchy> hs = Hierarchy.parse(HYBRID, SELF);
        assertEquals(List.of("name=systemd", "cpu,cpuacct", "memory", "cpuset"), hs.stream().map(Hierarchy::key).toList());
        Hierarchy memory = hs.get(2);
        assertEquals("/process_api/abc", memory.current());
        assertEquals(Path.of("/sys/fs/cgroup/memory/kubepods/pod1/kata_x"), memory.dir("/kubepods/pod1/kata_x"));
        assertEquals("/", hs.get(1).current(), "controller order does not matter");
        Hierarchy cpuset = hs.get(3);
        assertEquals(Path.of("/sys/fs/cgroup/cpuset/x"), cpuset.dir("/kube/x"), "a mount root is stripped");
        assertFalse(cpuset.unified());
    }

    @Test
    void v2IsTheUnifiedHierarchyAlone() {
        String mountinfo = "26 25 0:23 / /tmp/fake/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate";
        List<Hierarchy> hs = Hierarchy.parse(mountinfo, "0::/user.slice/shim.scope\n");
        assertEquals(1, hs.size());
        assertTrue(hs.getFirst().unified());
        assertEquals("/user.slice/shim.scope", hs.getFirst().current());
        assertEquals(Path.of("/tmp/fake/cgroup"), hs.getFirst().dir("/"));
    }

    @Test
    void noCgroupFilesystemMeansNoHierarchy() {
        assertTrue(Hierarchy.parse("31 20 8:1 / /data rw - ext4 /dev/sda1 rw", "").isEmpty());
    }
}
