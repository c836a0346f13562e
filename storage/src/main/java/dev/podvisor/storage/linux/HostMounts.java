package dev.podvisor.storage.linux;

import dev.podvisor.storage.host.MountInfoEntry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The host-side mount operations the shim needs (shares, rootfs, block volumes), on top of
 * {@link Linux#mount} and {@link Linux#umount2}. Each method says what it leaves behind; a method that fails
 * leaves nothing behind. Thread-safe. Needs {@code CAP_SYS_ADMIN} (root).
 */
public final class HostMounts {

    private HostMounts() {
    }

    /**
     * Options split the way mount(8) does it.
     *
     * @param flags       {@code MS_*} flags for the mount itself
     * @param propagation propagation flags ({@code MS_PRIVATE}, {@code MS_SLAVE}, {@code MS_SHARED},
     *                    {@code MS_UNBINDABLE}, possibly with {@code MS_REC}) applied by a second call, or 0
     * @param data        the remaining options joined with {@code ,} (filesystem data such as
     *                    {@code lowerdir=...}), or null when none
     */
    public record MountOptions(long flags, long propagation, String data) {
    }

    /** option → {set flags, clear flags}. */
    private static final Map<String, long[]> FLAG_OPTIONS = Map.ofEntries(
            Map.entry("defaults", new long[] {0, 0}),
            Map.entry("ro", new long[] {Linux.MS_RDONLY, 0}),
            Map.entry("rw", new long[] {0, Linux.MS_RDONLY}),
            Map.entry("nosuid", new long[] {Linux.MS_NOSUID, 0}),
            Map.entry("suid", new long[] {0, Linux.MS_NOSUID}),
            Map.entry("nodev", new long[] {Linux.MS_NODEV, 0}),
            Map.entry("dev", new long[] {0, Linux.MS_NODEV}),
            Map.entry("noexec", new long[] {Linux.MS_NOEXEC, 0}),
            Map.entry("exec", new long[] {0, Linux.MS_NOEXEC}),
            Map.entry("sync", new long[] {Linux.MS_SYNCHRONOUS, 0}),
            Map.entry("async", new long[] {0, Linux.MS_SYNCHRONOUS}),
            Map.entry("dirsync", new long[] {Linux.MS_DIRSYNC, 0}),
            Map.entry("remount", new long[] {Linux.MS_REMOUNT, 0}),
            Map.entry("bind", new long[] {Linux.MS_BIND, 0}),
            Map.entry("rbind", new long[] {Linux.MS_BIND | Linux.MS_REC, 0}),
            Map.entry("mand", new long[] {Linux.MS_MANDLOCK, 0}),
            Map.entry("nomand", new long[] {0, Linux.MS_MANDLOCK}),
            Map.entry("noatime", new long[] {Linux.MS_NOATIME, 0}),
            Map.entry("atime", new long[] {0, Linux.MS_NOATIME}),
            Map.entry("nodiratime", new long[] {Linux.MS_NODIRATIME, 0}),
            Map.entry("diratime", new long[] {0, Linux.MS_NODIRATIME}),
            Map.entry("relatime", new long[] {Linux.MS_RELATIME, 0}),
            Map.entry("norelatime", new long[] {0, Linux.MS_RELATIME}),
            Map.entry("strictatime", new long[] {Linux.MS_STRICTATIME, 0}),
            Map.entry("nostrictatime", new long[] {0, Linux.MS_STRICTATIME}),
            Map.entry("lazytime", new long[] {Linux.MS_LAZYTIME, 0}),
            Map.entry("nolazytime", new long[] {0, Linux.MS_LAZYTIME}),
            Map.entry("silent", new long[] {Linux.MS_SILENT, 0}),
            Map.entry("loud", new long[] {0, Linux.MS_SILENT}),
            Map.entry("nosymfollow", new long[] {Linux.MS_NOSYMFOLLOW, 0}));

    private static final Map<String, Long> PROPAGATION_OPTIONS = Map.of(
            "private", Linux.MS_PRIVATE,
            "rprivate", Linux.MS_PRIVATE | Linux.MS_REC,
            "slave", Linux.MS_SLAVE,
            "rslave", Linux.MS_SLAVE | Linux.MS_REC,
            "shared", Linux.MS_SHARED,
            "rshared", Linux.MS_SHARED | Linux.MS_REC,
            "unbindable", Linux.MS_UNBINDABLE,
            "runbindable", Linux.MS_UNBINDABLE | Linux.MS_REC);

    /**
     * Splits mount options like mount(8) (and runc/containerd's {@code parseMountOptions}): the flag words
     * ({@code ro}, {@code rw}, {@code nosuid}, {@code nodev}, {@code noexec}, {@code bind}, {@code rbind},
     * {@code noatime}, ...) become {@code MS_*} flags, later words winning over earlier ones; propagation
     * words ({@code private}, {@code rslave}, ...) are kept apart; {@code x-*} words (user-space only) are
     * dropped; every other word goes to the data string in order.
     */
    public static MountOptions parseOptions(List<String> options) {
        long flags = 0;
        long propagation = 0;
        List<String> data = new ArrayList<>();
        for (String option : options) {
            long[] setClear = FLAG_OPTIONS.get(option);
            Long prop = PROPAGATION_OPTIONS.get(option);
            if (setClear != null) {
                flags = (flags & ~setClear[1]) | setClear[0];
            } else if (prop != null) {
                propagation = prop;
            } else if (option.startsWith("x-") || option.isEmpty()) {
                continue;
            } else {
                data.add(option);
            }
        }
        return new MountOptions(flags, propagation, data.isEmpty() ? null : String.join(",", data));
    }

    /**
     * Bind-mounts {@code source} onto {@code target} recursively ({@code MS_BIND|MS_REC}); with
     * {@code readOnly}, then remounts the bind {@code MS_REMOUNT|MS_BIND|MS_RDONLY} so writes through
     * {@code target} fail with {@code EROFS} (a plain {@code MS_BIND|MS_RDONLY} would silently stay
     * writable). The remount keeps the bind's {@code nosuid}, {@code nodev}, {@code noexec} and atime flags
     * (as runc does), which a bare remount would clear. Only the top mount is made read-only; mounts below
     * {@code source} keep their own flags.
     *
     * <p>Leaves behind: one mount at {@code target} (plus copies of mounts under {@code source}); undo with
     * {@link #unmount}. If the read-only remount fails the bind is detached again.
     *
     * @param target an existing directory (or file, when {@code source} is a file)
     * @throws LinuxException e.g. {@code ENOENT} when either path is missing
     */
    public static void bind(Path source, Path target, boolean readOnly) {
        Linux.mount(source.toString(), target.toString(), null, Linux.MS_BIND | Linux.MS_REC, null);
        if (readOnly) {
            try {
                long keep = Linux.mountFlags(target.toString())
                        & (Linux.MS_NOSUID | Linux.MS_NODEV | Linux.MS_NOEXEC | Linux.MS_NOATIME
                        | Linux.MS_NODIRATIME | Linux.MS_RELATIME | Linux.MS_NOSYMFOLLOW);
                Linux.mount(null, target.toString(), null,
                        Linux.MS_REMOUNT | Linux.MS_BIND | Linux.MS_RDONLY | keep, null);
            } catch (RuntimeException e) {
                try {
                    Linux.umount2(target.toString(), Linux.MNT_DETACH);
                } catch (RuntimeException undo) {
                    e.addSuppressed(undo);
                }
                throw e;
            }
        }
    }

    /**
     * Mounts a filesystem, splitting {@code options} as {@link #parseOptions} does: e.g.
     * {@code mount("overlay", "overlay", target, List.of("lowerdir=/l", "upperdir=/u", "workdir=/w", "ro"))}.
     * Like mount(8), a {@code bind} with per-mount flags ({@code ro}, {@code nosuid}, ...) is followed by a
     * {@code MS_REMOUNT|MS_BIND} so the flags really apply, and a propagation word by a second call.
     *
     * <p>Leaves behind: one mount at {@code target}; undo with {@link #unmount}. When a follow-up call fails
     * the mount is detached again.
     *
     * @param fstype filesystem type, e.g. {@code overlay}, {@code tmpfs}, {@code ext4}; ignored for a bind
     *               mount; {@code bind} (the OCI spelling) implies the {@code bind} option
     * @param source device, directory or pseudo name ({@code overlay}, {@code tmpfs})
     * @throws LinuxException naming the source, target and type
     */
    public static void mount(String fstype, String source, Path target, List<String> options) {
        MountOptions parsed = parseOptions(options);
        if ("bind".equals(fstype) && (parsed.flags() & Linux.MS_BIND) == 0) {
            parsed = new MountOptions(parsed.flags() | Linux.MS_BIND, parsed.propagation(), parsed.data());
        }
        String type = isBind(parsed) ? null : fstype;
        long flags = parsed.flags();
        String tgt = target.toString();
        if (isBind(parsed)) {
            Linux.mount(source, tgt, type, flags & (Linux.MS_BIND | Linux.MS_REC), parsed.data());
        } else {
            Linux.mount(source, tgt, type, flags, parsed.data());
        }
        try {
            long perMount = flags & ~(Linux.MS_BIND | Linux.MS_REC | Linux.MS_REMOUNT);
            if (isBind(parsed) && perMount != 0) {
                Linux.mount(null, tgt, null, Linux.MS_REMOUNT | Linux.MS_BIND | perMount, null);
            }
            if (parsed.propagation() != 0) {
                Linux.mount(null, tgt, null, parsed.propagation(), null);
            }
        } catch (RuntimeException e) {
            if ((flags & Linux.MS_REMOUNT) == 0) {
                try {
                    Linux.umount2(tgt, Linux.MNT_DETACH);
                } catch (RuntimeException undo) {
                    e.addSuppressed(undo);
                }
            }
            throw e;
        }
    }

    private static boolean isBind(MountOptions o) {
        return (o.flags() & Linux.MS_BIND) != 0 && (o.flags() & Linux.MS_REMOUNT) == 0;
    }

    /**
     * Makes the mount at {@code target} and every mount below it slaves ({@code MS_SLAVE|MS_REC}, "rslave"):
     * mount events from the peer group still propagate in, none propagate out. Leaves behind: the changed
     * propagation only.
     *
     * @throws LinuxException {@code EINVAL} when {@code target} is not a mount point
     */
    public static void makeSlave(Path target) {
        Linux.mount(null, target.toString(), null, Linux.MS_SLAVE | Linux.MS_REC, null);
    }

    /**
     * Makes the mount at {@code target} and every mount below it private ({@code MS_PRIVATE|MS_REC},
     * "rprivate"): no mount events propagate either way. Leaves behind: the changed propagation only.
     *
     * @throws LinuxException {@code EINVAL} when {@code target} is not a mount point
     */
    public static void makePrivate(Path target) {
        Linux.mount(null, target.toString(), null, Linux.MS_PRIVATE | Linux.MS_REC, null);
    }

    /**
     * Unmounts the top-most mount at {@code target}: {@code umount2(target, 0)}, and when that fails with
     * {@code EBUSY}, {@code umount2(target, MNT_DETACH)} (detached now, freed once no longer busy). No error
     * when {@code target} is not a mount point ({@code EINVAL}) or does not exist ({@code ENOENT}). Mounts
     * stacked below stay: call again (or check {@link #isMountPoint}) to remove them.
     *
     * @throws LinuxException on any other error
     */
    public static void unmount(Path target) {
        String tgt = target.toString();
        try {
            Linux.umount2(tgt, 0);
        } catch (LinuxException e) {
            switch (e.errno()) {
                case Linux.EINVAL, Linux.ENOENT -> {
                    // not mounted: nothing to undo
                }
                case Linux.EBUSY -> Linux.umount2(tgt, Linux.MNT_DETACH);
                default -> throw e;
            }
        }
    }

    /**
     * Whether {@code path} is a mount point: some entry of {@code /proc/self/mountinfo} has it (after
     * resolving symlinks) as mount point. Unlike comparing {@code st_dev} with the parent, this also sees
     * bind mounts within one filesystem. False when {@code path} does not exist.
     */
    public static boolean isMountPoint(Path path) {
        Path real;
        try {
            real = path.toRealPath();
        } catch (IOException e) {
            if (!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                return false;
            }
            throw new java.io.UncheckedIOException("realpath " + path + ": " + e.getMessage(), e);
        }
        String want = real.toString();
        for (MountInfoEntry entry : MountInfo.read()) {
            if (entry.mountPoint().equals(want)) {
                return true;
            }
        }
        return false;
    }
}
