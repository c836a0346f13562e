package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.storage.host.MountInfoEntry;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link HostMounts}. Needs root (mounts binds, tmpfs and overlay); CI runs as root. */
class HostMountsTest {

    @TempDir
    Path dir;

    private final List<Path> mounted = new ArrayList<>();

    @AfterEach
    void unmountAll() {
        for (Path p : mounted.reversed()) {
            while (HostMounts.isMountPoint(p)) {
                HostMounts.unmount(p);
            }
        }
    }

    private Path mkdir(String name) throws Exception {
        return Files.createDirectories(dir.resolve(name));
    }

    private static MountInfoEntry entryAt(Path p) {
        return MountInfo.read().reversed().stream().filter(e -> e.mountPoint().equals(p.toString())).findFirst()
                .orElseThrow(() -> new AssertionError("not mounted: " + p));
    }

    @Test
    void readOnlyBindReallyRefusesWrites() throws Exception {
        Path source = mkdir("source");
        Files.writeString(source.resolve("file"), "data");
        Path target = mkdir("target");
        HostMounts.bind(source, target, true);
        mounted.add(target);

        assertTrue(HostMounts.isMountPoint(target));
        assertEquals("data", Files.readString(target.resolve("file")));
        FileSystemException e = assertThrows(FileSystemException.class,
                () -> Files.writeString(target.resolve("new"), "x"));
        assertTrue(e.getMessage().contains("Read-only file system"), e.getMessage());
        assertTrue(entryAt(target).mountOptions().contains("ro"));
        Files.writeString(source.resolve("new"), "through the source");
        assertEquals("through the source", Files.readString(target.resolve("new")));
    }

    @Test
    void readOnlyBindKeepsTheSourceMountFlags() throws Exception {
        Path source = mkdir("locked");
        HostMounts.mount("tmpfs", "tmpfs", source, List.of("size=1m", "nosuid", "nodev", "noexec"));
        mounted.add(source);
        assertEquals(Linux.MS_NOSUID | Linux.MS_NODEV | Linux.MS_NOEXEC | Linux.MS_RELATIME,
                Linux.mountFlags(source.toString()) & ~Linux.MS_NOATIME & ~Linux.MS_NODIRATIME);
        Path target = mkdir("ro-of-locked");
        HostMounts.bind(source, target, true);
        mounted.add(target);
        assertTrue(entryAt(target).mountOptions().containsAll(List.of("ro", "nosuid", "nodev", "noexec")),
                entryAt(target).mountOptions().toString());
        assertTrue((Linux.mountFlags(target.toString()) & Linux.MS_RDONLY) != 0);
    }

    @Test
    void writableBindShowsSubDirectoryRoot() throws Exception {
        Path tmpfs = mkdir("fs");
        HostMounts.mount("tmpfs", "tmpfs", tmpfs, List.of("size=1m"));
        mounted.add(tmpfs);
        Path sub = Files.createDirectories(tmpfs.resolve("a/b"));
        Path target = mkdir("bound");
        HostMounts.bind(sub, target, false);
        mounted.add(target);

        Files.writeString(target.resolve("w"), "written");
        assertEquals("written", Files.readString(sub.resolve("w")));
        MountInfoEntry e = entryAt(target);
        assertEquals("/a/b", e.root());
        assertEquals("tmpfs", e.fsType());
        assertTrue(e.mountOptions().contains("rw"));
    }

    @Test
    void overlayMountSplitsFlagsAndData() throws Exception {
        Path lower = mkdir("lower");
        Files.writeString(lower.resolve("from-lower"), "L");
        Path upper = mkdir("upper");
        Path work = mkdir("work");
        Path merged = mkdir("merged");
        HostMounts.mount("overlay", "overlay", merged, List.of(
                "lowerdir=" + lower, "upperdir=" + upper, "workdir=" + work, "nosuid", "nodev"));
        mounted.add(merged);

        assertEquals("L", Files.readString(merged.resolve("from-lower")));
        Files.writeString(merged.resolve("new"), "N");
        assertEquals("N", Files.readString(upper.resolve("new")));
        assertFalse(Files.exists(lower.resolve("new")));
        MountInfoEntry e = entryAt(merged);
        assertEquals("overlay", e.fsType());
        assertTrue(e.mountOptions().containsAll(List.of("nosuid", "nodev")), e.mountOptions().toString());
        assertTrue(e.superOptions().contains("upperdir=" + upper), e.superOptions().toString());
    }

    @Test
    void bindViaMountAppliesReadOnlyAndPropagation() throws Exception {
        Path source = mkdir("src");
        Path target = mkdir("dst");
        HostMounts.mount("bind", source.toString(), target, List.of("rbind", "ro", "nosuid", "rprivate"));
        mounted.add(target);
        MountInfoEntry e = entryAt(target);
        assertTrue(e.mountOptions().containsAll(List.of("ro", "nosuid")), e.mountOptions().toString());
        assertTrue(e.optionalFields().stream().noneMatch(f -> f.startsWith("shared:")), e.optionalFields().toString());
        assertThrows(FileSystemException.class, () -> Files.writeString(target.resolve("x"), "x"));
    }

    @Test
    void propagationChanges() throws Exception {
        Path target = mkdir("prop");
        HostMounts.mount("tmpfs", "tmpfs", target, List.of("size=1m"));
        mounted.add(target);
        Linux.mount(null, target.toString(), null, Linux.MS_SHARED, null);
        assertTrue(entryAt(target).optionalFields().stream().anyMatch(f -> f.startsWith("shared:")));
        HostMounts.makePrivate(target);
        assertEquals(List.of(), entryAt(target).optionalFields());

        Path slave = mkdir("slave");
        Linux.mount(null, target.toString(), null, Linux.MS_SHARED, null);
        HostMounts.bind(target, slave, false);
        mounted.add(slave);
        HostMounts.makeSlave(slave);
        assertTrue(entryAt(slave).optionalFields().stream().anyMatch(f -> f.startsWith("master:")),
                entryAt(slave).optionalFields().toString());
        HostMounts.makePrivate(target);
    }

    @Test
    void unmountOfNonMountIsNoOp() throws Exception {
        Path plain = mkdir("plain");
        HostMounts.unmount(plain);
        HostMounts.unmount(dir.resolve("does-not-exist"));
        assertFalse(HostMounts.isMountPoint(plain));
        assertFalse(HostMounts.isMountPoint(dir.resolve("does-not-exist")));
        assertTrue(Files.isDirectory(plain));
    }

    @Test
    void unmountRemovesTopMountOnly() throws Exception {
        Path target = mkdir("stack");
        HostMounts.mount("tmpfs", "tmpfs", target, List.of("size=1m"));
        mounted.add(target);
        Files.writeString(target.resolve("bottom"), "b");
        HostMounts.mount("tmpfs", "tmpfs", target, List.of("size=1m"));
        assertFalse(Files.exists(target.resolve("bottom")));
        HostMounts.unmount(target);
        assertTrue(HostMounts.isMountPoint(target));
        assertEquals("b", Files.readString(target.resolve("bottom")));
        HostMounts.unmount(target);
        assertFalse(HostMounts.isMountPoint(target));
    }

    @Test
    void busyMountIsDetachedLazily() throws Exception {
        Path target = mkdir("busy");
        HostMounts.mount("tmpfs", "tmpfs", target, List.of("size=1m"));
        mounted.add(target);
        int fd = Linux.open(target.resolve("open-file").toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_CLOEXEC, 0600);
        try {
            // the open fd makes umount(2) fail with EBUSY; unmount falls back to MNT_DETACH
            LinuxException busy = assertThrows(LinuxException.class, () -> Linux.umount2(target.toString(), 0));
            assertEquals(Linux.EBUSY, busy.errno());
            HostMounts.unmount(target);
            assertFalse(HostMounts.isMountPoint(target));
            byte[] data = "still writable".getBytes();
            Linux.writeFully(fd, data, 0, data.length);
        } finally {
            Linux.close(fd);
        }
    }

    @Test
    void failedMountNamesPathsAndLeavesNothing() throws Exception {
        Path missing = dir.resolve("no-such-dir");
        LinuxException e = assertThrows(LinuxException.class,
                () -> HostMounts.mount("tmpfs", "tmpfs", missing, List.of("size=1m")));
        assertEquals("mount(tmpfs → " + missing + ", type tmpfs): ENOENT (No such file or directory)", e.getMessage());
        Path target = mkdir("t");
        LinuxException bind = assertThrows(LinuxException.class, () -> HostMounts.bind(missing, target, true));
        assertEquals("mount(" + missing + " → " + target + "): ENOENT (No such file or directory)", bind.getMessage());
        assertFalse(HostMounts.isMountPoint(target));
    }

    @Test
    void parsesOptionsLikeMount8() {
        HostMounts.MountOptions o = HostMounts.parseOptions(List.of(
                "rw", "ro", "nosuid", "nodev", "noexec", "x-kubelet", "lowerdir=/a:/b", "rslave", "upperdir=/u"));
        assertEquals(Linux.MS_RDONLY | Linux.MS_NOSUID | Linux.MS_NODEV | Linux.MS_NOEXEC, o.flags());
        assertEquals(Linux.MS_SLAVE | Linux.MS_REC, o.propagation());
        assertEquals("lowerdir=/a:/b,upperdir=/u", o.data());
        HostMounts.MountOptions rw = HostMounts.parseOptions(List.of("ro", "rw", "defaults", "rbind"));
        assertEquals(Linux.MS_BIND | Linux.MS_REC, rw.flags());
        assertEquals(0, rw.propagation());
        assertNull(rw.data());
    }
}
