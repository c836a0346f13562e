package dev.podvisor.storage.exec;

import dev.podvisor.storage.host.MountInfoEntry;
import dev.podvisor.storage.linux.HostMounts;
import dev.podvisor.storage.linux.MountInfo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The last word on a sandbox's share tree {@code <shared_root>/<sid>} when its shim is gone: every mount whose mount
 * point lies under it (the {@code rw}/{@code ro} binds of every virtio-fs device, container rootfs binds, volume
 * binds, recorded or not) is unmounted, deepest first; only when no mount is left under it is the tree removed
 * (then it holds nothing but what Podvisor created: directories and empty bind targets). While a mount stays, nothing
 * is deleted: it could be host data seen through that bind.
 */
public final class ShareRootSweep {

    private ShareRootSweep() {
    }

    /**
     * Unmounts everything under {@code sandboxShareDir} and removes its empty directories.
     *
     * @param sandboxShareDir {@code <shared_root>/<sid>}
     * @return mount points that could not be unmounted (normally none)
     */
    public static List<String> sweep(Path sandboxShareDir) {
        String root = sandboxShareDir.toAbsolutePath().normalize().toString();
        List<String> failed = new ArrayList<>();
        for (int round = 0; round < 8; round++) { // stacked mounts show again after the top one goes
            List<String> under = MountInfo.read().stream().map(MountInfoEntry::mountPoint)
                    .filter(m -> m.equals(root) || m.startsWith(root + "/"))
                    .sorted(Comparator.comparingInt(String::length).reversed()).toList();
            if (under.isEmpty()) {
                failed.clear();
                break;
            }
            failed.clear();
            for (String mountPoint : under) {
                try {
                    HostMounts.unmount(Path.of(mountPoint));
                } catch (RuntimeException e) {
                    failed.add(mountPoint + ": " + e.getMessage());
                }
            }
        }
        if (failed.isEmpty()) {
            removeTree(sandboxShareDir);
        }
        return failed;
    }

    private static void removeTree(Path dir) {
        if (!Files.isDirectory(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) { // does not follow symbolic links
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        } catch (IOException | UncheckedIOException e) {
            return;
        }
        for (Path p : paths) {
            try {
                Files.deleteIfExists(p);
            } catch (DirectoryNotEmptyException | UncheckedIOException keep) {
                // something appeared meanwhile: it stays, and its parents with it
            } catch (IOException ignored) {
                // best effort: reported by whoever checks for leftovers
            }
        }
    }
}
