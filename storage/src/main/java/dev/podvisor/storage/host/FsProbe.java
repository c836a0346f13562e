package dev.podvisor.storage.host;

/**
 * What the first bytes of a block device or image file hold, as {@code blkid} would tell (magic numbers only).
 *
 * @param type  the file system found: {@code ext} (ext2/3/4 share one magic), {@code xfs}, {@code btrfs},
 *              {@code vfat}, {@code swap}, or "" when none is recognised
 * @param blank true when every probed byte is zero: nothing there to lose
 */
public record FsProbe(String type, boolean blank) {

    /** Nothing recognised, not blank: unknown data. */
    public static final FsProbe UNKNOWN_DATA = new FsProbe("", false);
    /** All zero. */
    public static final FsProbe BLANK = new FsProbe("", true);

    /** Whether a file system of type {@code fstype} (as in {@code mountInfo.json}) is what was found. */
    public boolean holds(String fstype) {
        String family = switch (fstype) {
            case "ext2", "ext3", "ext4" -> "ext";
            case "vfat", "fat", "msdos" -> "vfat";
            default -> fstype;
        };
        return !type.isEmpty() && type.equals(family);
    }
}
