package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.storage.host.MountInfoEntry;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link MountInfo} on recorded mountinfo lines. */
class MountInfoTest {

    private static final String RECORDED = """
            22 27 0:21 / /proc rw,relatime - proc proc rw
            27 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
            36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
            120 27 0:55 / /run/kata\\040containers/my\\011dir rw,nosuid,nodev shared:7 master:3 propagate_from:2 - tmpfs tmp\\134fs rw,size=65536k,mode=755
            130 27 253:1 /var/lib/data/sub /mnt/bound ro,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro
            140 27 0:60 / /run/ov rw,relatime - overlay overlay rw,lowerdir=/l1:/l2,upperdir=/u,workdir=/w
            150 27 0:61 / /caf\\303\\251 rw - fuse.sshfs user@host: rw,user_id=0
            """;

    @Test
    void parsesPlainLine() {
        MountInfoEntry proc = MountInfo.parse(RECORDED).get(0);
        assertEquals(new MountInfoEntry(22, 27, 0, 21, "/", "/proc", List.of("rw", "relatime"), List.of(),
                "proc", "proc", List.of("rw")), proc);
        assertEquals("0:21", proc.deviceNumber());
    }

    @Test
    void parsesAllLinesInOrder() {
        List<MountInfoEntry> entries = MountInfo.parse(RECORDED);
        assertEquals(7, entries.size());
        assertEquals(List.of(22, 27, 36, 120, 130, 140, 150), entries.stream().map(MountInfoEntry::mountId).toList());
    }

    @Test
    void decodesOctalEscapes() {
        MountInfoEntry e = MountInfo.parse(RECORDED).get(3);
        assertEquals("/run/kata containers/my\tdir", e.mountPoint());
        assertEquals("tmp\\fs", e.source());
        assertEquals(List.of("rw", "size=65536k", "mode=755"), e.superOptions());
        assertEquals("/café", MountInfo.parse(RECORDED).get(6).mountPoint());
    }

    @Test
    void keepsOptionalFieldsUpToTheSeparator() {
        List<MountInfoEntry> entries = MountInfo.parse(RECORDED);
        assertEquals(List.of("shared:7", "master:3", "propagate_from:2"), entries.get(3).optionalFields());
        assertEquals(List.of("master:1"), entries.get(2).optionalFields());
        assertEquals(List.of(), entries.get(0).optionalFields());
        assertEquals("tmpfs", entries.get(3).fsType());
        assertEquals(List.of("rw", "nosuid", "nodev"), entries.get(3).mountOptions());
    }

    @Test
    void bindOfSubDirectoryShowsItsRoot() {
        MountInfoEntry bind = MountInfo.parse(RECORDED).get(4);
        assertEquals("/var/lib/data/sub", bind.root());
        assertEquals("/mnt/bound", bind.mountPoint());
        assertEquals(253, bind.major());
        assertEquals(1, bind.minor());
        assertTrue(bind.mountOptions().contains("ro"));
    }

    @Test
    void splitsSuperOptionsAndKeepsColonsInSource() {
        List<MountInfoEntry> entries = MountInfo.parse(RECORDED);
        assertEquals(List.of("rw", "lowerdir=/l1:/l2", "upperdir=/u", "workdir=/w"), entries.get(5).superOptions());
        assertEquals("fuse.sshfs", entries.get(6).fsType());
        assertEquals("user@host:", entries.get(6).source());
    }

    @Test
    void rejectsMalformedLinesNamingTheLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MountInfo.parse("22 27 0:21 / /proc rw,relatime - proc proc rw\n23 27 0:22 / /sys rw proc x y\n"));
        assertTrue(e.getMessage().startsWith("mountinfo line 2: "), e.getMessage());
        assertTrue(e.getMessage().contains("/sys"), e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> MountInfo.parse("x 27 0:21 / /proc rw - proc proc rw"));
        assertTrue(bad.getMessage().contains("mount id: not a number: 'x'"), bad.getMessage());
    }

    @Test
    void readsOwnMountTable() {
        List<MountInfoEntry> entries = MountInfo.read();
        assertFalse(entries.isEmpty());
        assertTrue(entries.stream().anyMatch(e -> e.mountPoint().equals("/")), "a root mount");
        assertTrue(entries.stream().anyMatch(e -> e.fsType().equals("proc")), "proc is mounted");
    }
}
