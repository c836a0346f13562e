package dev.podvisor.sandbox.cgroup;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class CgroupsPathTest {

    @Test
    void cgroupfsPathGetsKatasPrefixOnItsLastElement() {
        CgroupsPath p = CgroupsPath.parse("/kubepods/besteffort/pod1234/abcdef");
        assertFalse(p.systemd());
        assertEquals("/kubepods/besteffort/pod1234/abcdef", p.path());
        assertEquals("/kubepods/besteffort/pod1234/kata_abcdef", p.sandboxCgroup());
        assertEquals("/kubepods/pod1/kata_x", CgroupsPath.parse("/kubepods//pod1/./x/").sandboxCgroup(), "cleaned");
    }

    @Test
    void relativeAndEmptyPathsGoUnderKatasDefault() {
        assertEquals("/vc/kata_sb1", CgroupsPath.parse("sb1").sandboxCgroup());
        assertEquals("/kata_vc", CgroupsPath.parse("").sandboxCgroup());
    }

    @Test
    void systemdPathsExpandTheSliceAndKeepTheName() {
        CgroupsPath p = CgroupsPath.parse("kubepods-besteffort-pod1234.slice:cri-containerd:abcdef");
        assertTrue(p.systemd());
        assertEquals("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234.slice/cri-containerd-abcdef.scope",
                p.sandboxCgroup());
        assertEquals("/system.slice/abc.scope", CgroupsPath.parse("::abc").path(), "empty slice is system.slice, no prefix");
        assertEquals("/x.scope", CgroupsPath.parse("-.slice::x").path(), "-.slice is the root");
        assertEquals("/a.slice/a-b.slice", CgroupsPath.parse("a.slice::a-b.slice").path(), "a name ending in .slice is itself");
    }

    @Test
    void malformedPathsAreNamedErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CgroupsPath.parse("bad:pre:x"));
        assertTrue(e.getMessage().contains("linux.cgroupsPath 'bad:pre:x'") && e.getMessage().contains("slice"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CgroupsPath.parse("a--b.slice:p:x"));
        assertThrows(IllegalArgumentException.class, () -> CgroupsPath.parse("-a.slice:p:x"));
        assertThrows(IllegalArgumentException.class, () -> CgroupsPath.parse("a.slice:p:"));
        e = assertThrows(IllegalArgumentException.class, () -> CgroupsPath.parse("/kubepods/../etc"));
        assertTrue(e.getMessage().contains("'..'"), e.getMessage());
    }

    @Test
    void overheadCgroupIsKatas() {
        assertEquals("/kata_overhead/sb1", CgroupsPath.overheadCgroup("sb1"));
        assertThrows(IllegalArgumentException.class, () -> CgroupsPath.overheadCgroup("../x"));
    }
}
