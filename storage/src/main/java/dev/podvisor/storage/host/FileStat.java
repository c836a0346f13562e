package dev.podvisor.storage.host;

/**
 * The parts of {@code struct stat} the planner uses.
 *
 * @param type      what the path is
 * @param mode      permission bits ({@code st_mode & 07777})
 * @param uid       owner uid
 * @param gid       owner gid (kubelet sets it to the pod's fsGroup on emptyDirs)
 * @param devMajor  major of the filesystem holding the file ({@code st_dev})
 * @param devMinor  minor of the filesystem holding the file
 * @param rdevMajor major of the device a device node stands for ({@code st_rdev}), 0 otherwise
 * @param rdevMinor minor of the device a device node stands for, 0 otherwise
 * @param sizeBytes {@code st_size} in bytes
 */
public record FileStat(
        FileType type, int mode, int uid, int gid, int devMajor, int devMinor, int rdevMajor, int rdevMinor,
        long sizeBytes) {

    /** The file types of {@code st_mode & S_IFMT}. */
    public enum FileType { REGULAR, DIRECTORY, SYMLINK, BLOCK_DEVICE, CHAR_DEVICE, FIFO, SOCKET }

    public boolean isBlockDevice() {
        return type == FileType.BLOCK_DEVICE;
    }

    public boolean isDirectory() {
        return type == FileType.DIRECTORY;
    }

    public boolean isRegularFile() {
        return type == FileType.REGULAR;
    }
}
