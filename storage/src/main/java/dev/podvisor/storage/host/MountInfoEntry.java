package dev.podvisor.storage.host;

import java.util.List;

/**
 * One line of {@code /proc/<pid>/mountinfo} (proc(5)), with octal escapes ({@code \040}) already decoded.
 *
 * @param mountId       unique id of the mount
 * @param parentId      id of the parent mount
 * @param major         major number of the filesystem's device ({@code st_dev})
 * @param minor         minor number of the filesystem's device
 * @param root          path inside the filesystem that forms the root of this mount (a bind of a
 *                      sub-directory shows that sub-directory here)
 * @param mountPoint    absolute mount point
 * @param mountOptions  per-mount options ({@code rw}, {@code nosuid}, ...)
 * @param optionalFields propagation fields ({@code shared:N}, {@code master:N}, ...)
 * @param fsType        filesystem type, e.g. {@code tmpfs}, {@code ext4}, {@code overlay}, {@code fuse.x}
 * @param source        mount source, e.g. {@code /dev/vda}, {@code tmpfs}, {@code overlay}
 * @param superOptions  per-superblock options ({@code size=65536k}, {@code pagesize=2M}, ...)
 */
public record MountInfoEntry(
        int mountId,
        int parentId,
        int major,
        int minor,
        String root,
        String mountPoint,
        List<String> mountOptions,
        List<String> optionalFields,
        String fsType,
        String source,
        List<String> superOptions) {

    public MountInfoEntry {
        mountOptions = List.copyOf(mountOptions);
        optionalFields = List.copyOf(optionalFields);
        superOptions = List.copyOf(superOptions);
    }

    /** {@code major:minor} as the kernel prints it. */
    public String deviceNumber() {
        return major + ":" + minor;
    }
}
