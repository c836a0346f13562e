package dev.podvisor.storage.host;

/**
 * The parts of {@code struct statfs} the planner uses.
 *
 * @param type       {@code f_type}, the filesystem magic (see {@link #TMPFS_MAGIC} and friends)
 * @param blockSize  {@code f_bsize} in bytes
 * @param blocks     {@code f_blocks}, total data blocks
 * @param blocksFree {@code f_bfree}
 */
public record FsStat(long type, long blockSize, long blocks, long blocksFree) {

    /** {@code TMPFS_MAGIC} from linux/magic.h. */
    public static final long TMPFS_MAGIC = 0x01021994L;
    /** {@code HUGETLBFS_MAGIC} from linux/magic.h. */
    public static final long HUGETLBFS_MAGIC = 0x958458f6L;
    /** {@code OVERLAYFS_SUPER_MAGIC} from linux/magic.h. */
    public static final long OVERLAYFS_MAGIC = 0x794c7630L;

    /** Total size in bytes: {@code f_blocks * f_bsize}. */
    public long totalBytes() {
        return blocks * blockSize;
    }
}
