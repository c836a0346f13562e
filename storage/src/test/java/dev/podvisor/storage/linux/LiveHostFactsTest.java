package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.host.FsStat;
import dev.podvisor.storage.host.MountInfoEntry;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LiveHostFacts} on a real tmpfs. Needs root (mounts the tmpfs, chowns); CI runs as root. */
class LiveHostFactsTest {

    @TempDir
    Path dir;

    private Path tmpfs;
    private LiveHostFacts facts;

    @BeforeEach
    void mountTmpfs() throws Exception {
        tmpfs = Files.createDirectory(dir.resolve("empty dir"));
        HostMounts.mount("tmpfs", "tmpfs", tmpfs, List.of("size=2m", "mode=1777", "nosuid"));
        facts = new LiveHostFacts(dir.resolve("direct-volumes"));
    }

    @AfterEach
    void unmount() {
        HostMounts.unmount(tmpfs);
    }

    @Test
    void mountsAreReadOncePerInstance() {
        List<MountInfoEntry> first = facts.mounts();
        assertSame(first, facts.mounts());
        MountInfoEntry e = facts.mountAt(tmpfs).orElseThrow();
        assertEquals("tmpfs", e.fsType());
        assertEquals(tmpfs.toString(), e.mountPoint(), "the escaped space is decoded");
        assertTrue(e.superOptions().contains("size=2048k"), e.superOptions().toString());
        assertEquals(e, facts.mountContaining(tmpfs.resolve("a/b")).orElseThrow());
    }

    @Test
    void statfsOfTheTmpfs() {
        FsStat st = facts.statfs(tmpfs);
        assertEquals(FsStat.TMPFS_MAGIC, st.type());
        assertEquals(2L * 1024 * 1024, st.totalBytes());
    }

    @Test
    void statAndLstat() throws Exception {
        Path file = Files.writeString(tmpfs.resolve("file"), "12345");
        Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        Files.setAttribute(file, "unix:uid", 1234);
        Files.setAttribute(file, "unix:gid", 2345);
        Path link = Files.createSymbolicLink(tmpfs.resolve("link"), file);

        FileStat dirStat = facts.stat(tmpfs).orElseThrow();
        assertEquals(FileStat.FileType.DIRECTORY, dirStat.type());
        assertEquals(01777, dirStat.mode());

        FileStat f = facts.lstat(file).orElseThrow();
        assertEquals(new FileStat(FileStat.FileType.REGULAR, 0640, 1234, 2345,
                facts.mountAt(tmpfs).orElseThrow().major(), facts.mountAt(tmpfs).orElseThrow().minor(), 0, 0, 5), f);
        assertEquals(FileStat.FileType.SYMLINK, facts.lstat(link).orElseThrow().type());
        assertEquals(f, facts.stat(link).orElseThrow());
        assertEquals(file, facts.realPath(link));

        assertEquals(Optional.empty(), facts.stat(tmpfs.resolve("missing")));
        assertEquals(Optional.empty(), facts.lstat(file.resolve("under-a-file")));
        assertThrows(UncheckedIOException.class, () -> facts.realPath(tmpfs.resolve("missing")));
    }

    @Test
    void charDeviceNumbers() {
        FileStat devNull = facts.stat(Path.of("/dev/null")).orElseThrow();
        assertEquals(FileStat.FileType.CHAR_DEVICE, devNull.type());
        assertEquals(1, devNull.rdevMajor());
        assertEquals(3, devNull.rdevMinor());
    }

    /** glibc {@code gnu_dev_makedev}. */
    private static long makedev(long major, long minor) {
        return ((major & 0xfffL) << 8) | ((major & 0xfffff000L) << 32) | (minor & 0xffL) | ((minor & 0xffffff00L) << 12);
    }

    @Test
    void decodesDeviceNumbersTheGlibcWay() {
        assertEquals(0x801L, makedev(8, 1));
        assertEquals(8, LiveHostFacts.major(0x801L));
        assertEquals(1, LiveHostFacts.minor(0x801L));
        assertEquals(259, LiveHostFacts.major(0x10300L));
        assertEquals(0, LiveHostFacts.minor(0x10300L));
        long big = makedev(0x12345, 0x6789a);
        assertEquals(0x12345, LiveHostFacts.major(big));
        assertEquals(0x6789a, LiveHostFacts.minor(big));
    }

    @Test
    void directVolumeRecordsAreKeyedByPaddedBase64Url() throws Exception {
        String volume = "/pods/a?b/kubernetes.io~csi/vol";
        assertEquals("L3BvZHMvYT9iL2t1YmVybmV0ZXMuaW9-Y3NpL3ZvbA==", LiveHostFacts.directVolumeKey(volume));
        assertEquals(Optional.empty(), facts.directVolumeMountInfo(volume));
        Path record = Files.createDirectories(dir.resolve("direct-volumes").resolve(LiveHostFacts.directVolumeKey(volume)));
        String json = "{\"volume-type\":\"block\",\"device\":\"/dev/sdb\",\"fstype\":\"ext4\"}";
        Files.writeString(record.resolve("mountInfo.json"), json);
        assertEquals(Optional.of(json), facts.directVolumeMountInfo(volume));
        assertEquals(Optional.empty(), facts.directVolumeMountInfo("/other"));
    }
}
