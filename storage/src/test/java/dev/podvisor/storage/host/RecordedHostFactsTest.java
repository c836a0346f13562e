package dev.podvisor.storage.host;

import static org.junit.jupiter.api.Assertions.*;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RecordedHostFactsTest {

    @Test
    void parsesMountInfoWithEscapesAndOptionalFields() {
        MountInfoEntry e = RecordedHostFacts.parseMountInfoLine(
                "36 35 98:0 /mnt\\040dir /mnt/my\\040disk rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue");
        assertEquals(36, e.mountId());
        assertEquals(35, e.parentId());
        assertEquals("98:0", e.deviceNumber());
        assertEquals("/mnt dir", e.root());
        assertEquals("/mnt/my disk", e.mountPoint());
        assertEquals(List.of("master:1", "shared:2"), e.optionalFields());
        assertEquals("ext3", e.fsType());
        assertEquals(List.of("rw", "errors=continue"), e.superOptions());
        assertThrows(IllegalArgumentException.class, () -> RecordedHostFacts.parseMountInfoLine("garbage"));
    }

    @Test
    void pathsStatsSymlinksAndStatfs() {
        RecordedHostFacts f = RecordedHostFacts.builder()
                .mountInfo("1 0 8:1 / / rw - ext4 /dev/sda1 rw", "2 1 0:30 / /tmp/t rw - tmpfs tmpfs rw,size=1024k")
                .directory("/srv/a", 5, 8, 1)
                .symlink("/srv/l", "a")
                .symlink("/srv/abs", "/srv/l")
                .blockDevice("/dev/sdb", 8, 16, true)
                .tmpfs("/tmp/t", 1 << 20)
                .build();
        assertEquals(Path.of("/srv/a"), f.realPath(Path.of("/srv/abs")));
        assertEquals(FileStat.FileType.SYMLINK, f.lstat(Path.of("/srv/l")).orElseThrow().type());
        assertEquals(5, f.stat(Path.of("/srv/l")).orElseThrow().gid());
        assertTrue(f.stat(Path.of("/srv/missing")).isEmpty());
        assertThrows(UncheckedIOException.class, () -> f.realPath(Path.of("/srv/missing/x")));
        assertEquals(FileStat.FileType.DIRECTORY, f.stat(Path.of("/tmp/t")).orElseThrow().type());
        assertEquals(30, f.stat(Path.of("/tmp/t")).orElseThrow().devMinor());
        assertEquals(1 << 20, f.statfs(Path.of("/tmp/t")).totalBytes());
        assertThrows(UncheckedIOException.class, () -> f.statfs(Path.of("/srv/a")));
        assertTrue(f.blockDeviceReadOnly(Path.of("/dev/sdb")));
        assertThrows(UncheckedIOException.class, () -> f.blockDeviceReadOnly(Path.of("/srv/a")));
        assertEquals("/tmp/t", f.mountContaining(Path.of("/tmp/t/x")).orElseThrow().mountPoint());
        assertTrue(f.directVolumeMountInfo("/x").isEmpty());
    }
}
