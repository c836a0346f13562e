package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.MountInfoEntry;
import java.nio.file.Path;

/**
 * A bind source recognised as a Kubernetes emptyDir, or as a subPath of one.
 *
 * @param volume   volume name
 * @param dir      the emptyDir directory ({@code <pod>/volumes/kubernetes.io~empty-dir/<volume>})
 * @param subdir   for a subPath, the path below {@code dir} (no leading slash, no {@code ..}); empty otherwise
 * @param dirMount the mount whose mount point is {@code dir}, or null when {@code dir} is not a mount point
 * @param medium   {@code tmpfs}, {@code hugetlbfs} or {@code disk}
 * @param source   the mount's resolved source
 */
record EmptyDirRef(String volume, Path dir, String subdir, MountInfoEntry dirMount, String medium, Path source) {

    static final String EMPTY_DIR_PLUGIN = "kubernetes.io~empty-dir";

    boolean isSubPath() {
        return !subdir.isEmpty() || !source.equals(dir);
    }

    /** Describes the host side for reasons: "emptyDir 'cache' (subPath 'a/b') at /var/...". */
    String describe() {
        return "emptyDir '" + volume + "'" + (isSubPath() ? " (subPath " + (subdir.isEmpty() ? "at its top" : "'" + subdir + "'") + ")" : "")
                + " at " + dir;
    }
}
