package dev.podvisor.storage.host;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What the storage planner may learn about the host, and nothing else. The planner is a pure function of
 * its inputs; every fact it needs about the live machine comes through this interface, so tests hand it a
 * recorded variant and the shim hands it the live one.
 *
 * <p>Paths are absolute host paths. No method changes the host.
 */
public interface HostFacts {

    /** Every entry of {@code /proc/self/mountinfo}, in file order (later entries stack on earlier ones). */
    List<MountInfoEntry> mounts();

    /**
     * The mount whose mount point is exactly {@code mountPoint} (the last, i.e. top-most, one when several
     * are stacked), or empty when {@code mountPoint} is not a mount point.
     */
    default Optional<MountInfoEntry> mountAt(Path mountPoint) {
        String want = mountPoint.normalize().toString();
        MountInfoEntry found = null;
        for (MountInfoEntry entry : mounts()) {
            if (entry.mountPoint().equals(want)) {
                found = entry;
            }
        }
        return Optional.ofNullable(found);
    }

    /**
     * The mount that holds {@code path}: the top-most entry with the longest mount point that is {@code path}
     * itself or one of its ancestors. Every absolute path has one (at least {@code /}).
     */
    default Optional<MountInfoEntry> mountContaining(Path path) {
        Path want = path.normalize();
        MountInfoEntry found = null;
        int bestLength = -1;
        for (MountInfoEntry entry : mounts()) {
            Path mountPoint = Path.of(entry.mountPoint());
            if (want.startsWith(mountPoint)) {
                int length = mountPoint.getNameCount();
                if (length >= bestLength) {
                    bestLength = length;
                    found = entry;
                }
            }
        }
        return Optional.ofNullable(found);
    }

    /** {@code lstat(2)} of {@code path} (symlinks are not followed), or empty when it does not exist. */
    Optional<FileStat> lstat(Path path);

    /** {@code stat(2)} of {@code path} (symlinks followed), or empty when it does not exist. */
    Optional<FileStat> stat(Path path);

    /**
     * {@code statfs(2)} of the filesystem holding {@code path}.
     *
     * @throws java.io.UncheckedIOException when {@code path} does not exist or cannot be read
     */
    FsStat statfs(Path path);

    /**
     * Whether the block device node {@code device} is read-only ({@code ioctl(BLKROGET)}).
     *
     * @throws java.io.UncheckedIOException when {@code device} cannot be opened or is not a block device
     */
    boolean blockDeviceReadOnly(Path device);

    /**
     * Which file system the block device or image file {@code device} holds, by its magic numbers, or whether it is
     * blank (issue 8, case 8: nothing holding data is ever handed to the guest to format).
     *
     * @throws java.io.UncheckedIOException when {@code device} cannot be read
     */
    FsProbe probeFilesystem(Path device);

    /**
     * {@code realpath(3)} of {@code path}: absolute, no symlinks, no {@code .} or {@code ..}.
     *
     * @throws java.io.UncheckedIOException when a component does not exist
     */
    Path realPath(Path path);

    /**
     * The raw text of the direct-volume record for the volume mounted from {@code volumePath}, i.e. the
     * file {@code <direct-volumes root>/<base64url(volumePath) with padding>/mountInfo.json} (Kata:
     * src/runtime/pkg/direct-volume/utils.go), or empty when there is none. The planner parses and
     * validates it.
     */
    Optional<String> directVolumeMountInfo(String volumePath);
}
