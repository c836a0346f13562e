package dev.podvisor.testbed.guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mount options split the way the kata-agent's {@code parse_mount_options} does (src/agent/src/mount.rs):
 * known flag words become {@code mount(2)} flags, everything else is joined with commas into the data string.
 *
 * @param flags the {@code MS_*} flags
 * @param data  the comma-joined file-system specific options, or null when there are none
 */
record MountOptions(long flags, String data) {

    static final long MS_RDONLY = 1;
    static final long MS_NOSUID = 2;
    static final long MS_NODEV = 4;
    static final long MS_NOEXEC = 8;
    static final long MS_SYNCHRONOUS = 16;
    static final long MS_REMOUNT = 32;
    static final long MS_MANDLOCK = 64;
    static final long MS_DIRSYNC = 128;
    static final long MS_NOATIME = 1024;
    static final long MS_NODIRATIME = 2048;
    static final long MS_BIND = 4096;
    static final long MS_REC = 16384;
    static final long MS_SILENT = 32768;
    static final long MS_UNBINDABLE = 1 << 17;
    static final long MS_PRIVATE = 1 << 18;
    static final long MS_SLAVE = 1 << 19;
    static final long MS_SHARED = 1 << 20;
    static final long MS_RELATIME = 1 << 21;
    static final long MS_STRICTATIME = 1 << 24;

    /** Flag words that set bits. */
    private static final Map<String, Long> SET = Map.ofEntries(
            Map.entry("ro", MS_RDONLY), Map.entry("nosuid", MS_NOSUID), Map.entry("nodev", MS_NODEV),
            Map.entry("noexec", MS_NOEXEC), Map.entry("sync", MS_SYNCHRONOUS), Map.entry("remount", MS_REMOUNT),
            Map.entry("mand", MS_MANDLOCK), Map.entry("dirsync", MS_DIRSYNC), Map.entry("noatime", MS_NOATIME),
            Map.entry("nodiratime", MS_NODIRATIME), Map.entry("bind", MS_BIND),
            Map.entry("rbind", MS_BIND | MS_REC), Map.entry("silent", MS_SILENT),
            Map.entry("unbindable", MS_UNBINDABLE), Map.entry("runbindable", MS_UNBINDABLE | MS_REC),
            Map.entry("private", MS_PRIVATE), Map.entry("rprivate", MS_PRIVATE | MS_REC),
            Map.entry("slave", MS_SLAVE), Map.entry("rslave", MS_SLAVE | MS_REC),
            Map.entry("shared", MS_SHARED), Map.entry("rshared", MS_SHARED | MS_REC),
            Map.entry("relatime", MS_RELATIME), Map.entry("strictatime", MS_STRICTATIME));

    /** Flag words that clear bits. */
    private static final Map<String, Long> CLEAR = Map.of(
            "rw", MS_RDONLY, "suid", MS_NOSUID, "dev", MS_NODEV, "exec", MS_NOEXEC, "async", MS_SYNCHRONOUS,
            "nomand", MS_MANDLOCK, "atime", MS_NOATIME, "diratime", MS_NODIRATIME, "norelatime", MS_RELATIME,
            "loud", MS_SILENT);

    /** Parses {@code options} (e.g. {@code ["ro", "nodev", "size=64m"]}); {@code defaults} and blanks are ignored. */
    static MountOptions parse(List<String> options) {
        long flags = 0;
        List<String> data = new ArrayList<>();
        for (String option : options) {
            String word = option.trim();
            if (word.isEmpty() || word.equals("defaults")) {
                continue;
            }
            Long set = SET.get(word);
            Long clear = CLEAR.get(word);
            if (set != null) {
                flags |= set;
            } else if (clear != null) {
                flags &= ~clear;
            } else {
                data.add(word);
            }
        }
        return new MountOptions(flags, data.isEmpty() ? null : String.join(",", data));
    }

    /** The flags that may be applied to a bind mount by a bind remount (read-only and the no* restrictions). */
    long bindRestrictions() {
        return flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME
                | MS_STRICTATIME);
    }
}
