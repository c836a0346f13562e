package dev.podvisor.storage.exec;

import dev.podvisor.storage.linux.HostMounts;
import dev.podvisor.storage.linux.MountInfo;
import dev.podvisor.storage.linux.PrivateDirs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ShareRootSweep} and {@link PrivateDirs} (issue 8, cases 2-4). Needs root (binds and tmpfs); CI runs as root.
 */
class ShareRootSweepTest {

    @TempDir
    Path dir;

    @AfterEach
    void unmountLeftovers() {
        for (var e : MountInfo.read().reversed()) {
            if (e.mountPoint().startsWith(dir.toString())) {
                HostMounts.unmount(Path.of(e.mountPoint()));
            }
        }
    }

    @Test
    void everyMountUnderTheTreeGoesAndThenTheTree() throws Exception {
        Path source = Files.createDirectories(dir.resolve("host-data"));
        Files.writeString(source.resolve("keep.txt"), "host data");
        Path sandbox = PrivateDirs.create(dir.resolve("shared/sid"));
        Path rw = Files.createDirectories(sandbox.resolve("rw"));
        Path ro = Files.createDirectories(sandbox.resolve("ro"));
        Path extra = Files.createDirectories(sandbox.resolve("dev1/rw/vol"));
        HostMounts.bind(rw, rw, false);
        HostMounts.bind(rw, ro, true);
        Path bound = Files.createDirectories(rw.resolve("c1/rootfs"));
        HostMounts.bind(source, bound, false);                  // a rootfs bind no record names
        HostMounts.mount("tmpfs", "tmpfs", extra, List.of("size=1m")); // an extra device's share
        HostMounts.mount("tmpfs", "tmpfs", extra, List.of("size=1m")); // stacked

        assertEquals(List.of(), ShareRootSweep.sweep(sandbox));
        assertTrue(MountInfo.read().stream().noneMatch(e -> e.mountPoint().startsWith(sandbox.toString())));
        assertFalse(Files.exists(sandbox), "the tree is removed");
        assertEquals("host data", Files.readString(source.resolve("keep.txt")), "the bind source is untouched");
        assertEquals(List.of(), ShareRootSweep.sweep(sandbox), "idempotent");
    }

    @Test
    void privateDirsAreOwnerOnlyWhateverTheUmask() throws Exception {
        Path made = PrivateDirs.create(dir.resolve("a/b/c"));
        for (Path p : List.of(made, dir.resolve("a/b"), dir.resolve("a"))) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
        }
        Files.setPosixFilePermissions(made, PosixFilePermissions.fromString("rwxr-xr-x"));
        PrivateDirs.create(made);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(made)), "tightened");
    }
}
