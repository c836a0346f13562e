package dev.podvisor.storage.host;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link HostFacts} from recorded data, for tests and benchmarks: {@code /proc/self/mountinfo} lines, files
 * with their stats, symlinks, statfs results per path prefix, read-only block devices and direct-volume
 * records. Nothing touches the live host.
 *
 * <p>A path exists when it was recorded (file, directory, symlink, device), is an ancestor of a recorded path,
 * or is a mount point. Directories that exist only implicitly stat as {@code 0755 root:root} on the device of
 * the mount holding them, so device numbers agree with mountinfo. {@link #statfs} answers with the statfs
 * recorded for the longest recorded path prefix, and otherwise fails as the live call would.
 *
 * <p>Build with {@link #builder()}; the result is immutable and thread-safe.
 */
public final class RecordedHostFacts implements HostFacts {

    private final List<MountInfoEntry> mounts;
    private final Map<String, MountInfoEntry> mountByPoint;
    private final Map<String, FileStat> files;
    private final Map<String, String> symlinks;
    private final Set<String> implicitDirs;
    private final Map<String, FsStat> statfs;
    private final Set<String> readOnlyDevices;
    private final Map<String, String> directVolumes;
    private final Map<String, FsProbe> filesystems;

    private RecordedHostFacts(Builder b) {
        this.mounts = List.copyOf(b.mounts);
        this.mountByPoint = new HashMap<>();
        for (MountInfoEntry e : mounts) {
            mountByPoint.put(e.mountPoint(), e);
        }
        this.files = Map.copyOf(b.files);
        this.symlinks = Map.copyOf(b.symlinks);
        Set<String> dirs = new HashSet<>();
        for (String p : concat(files.keySet(), symlinks.keySet(), mountByPoint.keySet())) {
            for (Path parent = Path.of(p).getParent(); parent != null; parent = parent.getParent()) {
                if (!dirs.add(parent.toString())) {
                    break;
                }
            }
        }
        dirs.addAll(mountByPoint.keySet());
        this.implicitDirs = dirs;
        this.statfs = Map.copyOf(b.statfs);
        this.readOnlyDevices = Set.copyOf(b.readOnlyDevices);
        this.directVolumes = Map.copyOf(b.directVolumes);
        this.filesystems = Map.copyOf(b.filesystems);
    }

    /** What {@link Builder#filesystem} recorded; {@link FsProbe#UNKNOWN_DATA} for any other existing device. */
    @Override
    public FsProbe probeFilesystem(Path device) {
        if (stat(device).isEmpty()) {
            throw new UncheckedIOException(new IOException("probing " + device + ": no such file"));
        }
        return filesystems.getOrDefault(realPath(device).toString(), FsProbe.UNKNOWN_DATA);
    }

    @SafeVarargs
    private static List<String> concat(Set<String>... sets) {
        List<String> out = new ArrayList<>();
        for (Set<String> s : sets) {
            out.addAll(s);
        }
        return out;
    }

    /** A new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public List<MountInfoEntry> mounts() {
        return mounts;
    }

    @Override
    public Optional<MountInfoEntry> mountAt(Path mountPoint) {
        return Optional.ofNullable(mountByPoint.get(mountPoint.normalize().toString()));
    }

    @Override
    public Optional<MountInfoEntry> mountContaining(Path path) {
        return Optional.ofNullable(containing(path.normalize().toString()));
    }

    private MountInfoEntry containing(String p) {
        for (String a = p; ; a = a.substring(0, a.lastIndexOf('/'))) {
            MountInfoEntry e = mountByPoint.get(a.isEmpty() ? "/" : a);
            if (e != null || a.isEmpty()) {
                return e;
            }
        }
    }

    @Override
    public Optional<FileStat> lstat(Path path) {
        String p = path.normalize().toString();
        FileStat f = files.get(p);
        if (f != null) {
            return Optional.of(f);
        }
        if (symlinks.containsKey(p)) {
            MountInfoEntry m = mountContaining(path).orElseThrow();
            return Optional.of(new FileStat(FileStat.FileType.SYMLINK, 0777, 0, 0, m.major(), m.minor(), 0, 0, 0));
        }
        if (implicitDirs.contains(p) || p.equals("/")) {
            MountInfoEntry m = containing(p);
            int major = m == null ? 0 : m.major();
            int minor = m == null ? 0 : m.minor();
            return Optional.of(new FileStat(FileStat.FileType.DIRECTORY, 0755, 0, 0, major, minor, 0, 0, 4096));
        }
        return Optional.empty();
    }

    @Override
    public Optional<FileStat> stat(Path path) {
        String p = path.normalize().toString();
        if (!anySymlinkAlong(p) && !path.toString().contains("/..")) {
            return lstat(path);
        }
        Path real;
        try {
            real = realPath(path);
        } catch (UncheckedIOException e) {
            return Optional.empty();
        }
        return lstat(real);
    }

    @Override
    public FsStat statfs(Path path) {
        Path p = path.normalize();
        if (stat(p).isEmpty()) {
            throw new UncheckedIOException(new IOException("statfs " + p + ": No such file or directory"));
        }
        Path real = realPath(p);
        for (Path q = real; q != null; q = q.getParent()) {
            FsStat s = statfs.get(q.toString());
            if (s != null) {
                return s;
            }
        }
        throw new UncheckedIOException(new IOException("statfs " + p + ": nothing recorded"));
    }

    @Override
    public boolean blockDeviceReadOnly(Path device) {
        Optional<FileStat> s = stat(device);
        if (s.isEmpty() || !s.get().isBlockDevice()) {
            throw new UncheckedIOException(new IOException("BLKROGET " + device + ": not a block device"));
        }
        return readOnlyDevices.contains(realPath(device).toString());
    }

    @Override
    public Path realPath(Path path) {
        if (!path.isAbsolute()) {
            throw new UncheckedIOException(new IOException("realpath " + path + ": not absolute"));
        }
        Path normal = path.normalize();
        String p = normal.toString();
        if (p.equals("/") || (!anySymlinkAlong(p) && !path.toString().contains("/..") && exists(p))) {
            return normal;
        }
        return slowRealPath(path);
    }

    private boolean exists(String p) {
        return files.containsKey(p) || implicitDirs.contains(p) || symlinks.containsKey(p);
    }

    private boolean anySymlinkAlong(String p) {
        if (symlinks.isEmpty()) {
            return false;
        }
        for (String a = p; !a.isEmpty(); a = a.substring(0, Math.max(0, a.lastIndexOf('/')))) {
            if (symlinks.containsKey(a)) {
                return true;
            }
        }
        return false;
    }

    private Path slowRealPath(Path path) {
        Path resolved = Path.of("/");
        List<String> todo = new ArrayList<>();
        for (Path name : path) {
            todo.add(name.toString());
        }
        int hops = 0;
        while (!todo.isEmpty()) {
            String name = todo.removeFirst();
            if (name.equals(".") || name.isEmpty()) {
                continue;
            }
            if (name.equals("..")) {
                resolved = resolved.getParent() == null ? resolved : resolved.getParent();
                continue;
            }
            Path next = resolved.resolve(name);
            String target = symlinks.get(next.toString());
            if (target != null) {
                if (++hops > 40) {
                    throw new UncheckedIOException(new IOException("realpath " + path + ": too many levels of symbolic links"));
                }
                Path t = Path.of(target);
                List<String> rest = new ArrayList<>();
                for (Path n : t) {
                    rest.add(n.toString());
                }
                todo.addAll(0, rest);
                if (t.isAbsolute()) {
                    resolved = Path.of("/");
                }
                continue;
            }
            if (lstat(next).isEmpty()) {
                throw new UncheckedIOException(new IOException("realpath " + path + ": " + next + ": No such file or directory"));
            }
            resolved = next;
        }
        return resolved;
    }

    @Override
    public Optional<String> directVolumeMountInfo(String volumePath) {
        return Optional.ofNullable(directVolumes.get(volumePath));
    }

    /**
     * Parses one line of {@code /proc/self/mountinfo} (proc(5)), decoding octal escapes such as {@code \040}.
     *
     * @throws IllegalArgumentException when the line does not have the mountinfo shape
     */
    public static MountInfoEntry parseMountInfoLine(String line) {
        String[] f = line.trim().split(" ");
        int dash = Arrays.asList(f).indexOf("-");
        if (f.length < 10 || dash < 6 || f.length < dash + 4) {
            throw new IllegalArgumentException("mountinfo line: not the proc(5) shape: '" + line + "'");
        }
        String[] dev = f[2].split(":");
        return new MountInfoEntry(
                Integer.parseInt(f[0]), Integer.parseInt(f[1]),
                Integer.parseInt(dev[0]), Integer.parseInt(dev[1]),
                unescape(f[3]), unescape(f[4]),
                List.of(f[5].split(",")),
                List.of(Arrays.copyOfRange(f, 6, dash)),
                unescape(f[dash + 1]), unescape(f[dash + 2]),
                List.of(f[dash + 3].split(",")));
    }

    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** Collects recorded facts. Paths are absolute and normalized on entry. */
    public static final class Builder {
        private final List<MountInfoEntry> mounts = new ArrayList<>();
        private final Map<String, FileStat> files = new HashMap<>();
        private final Map<String, String> symlinks = new HashMap<>();
        private final Map<String, FsStat> statfs = new HashMap<>();
        private final Set<String> readOnlyDevices = new HashSet<>();
        private final Map<String, String> directVolumes = new HashMap<>();
        private final Map<String, FsProbe> filesystems = new HashMap<>();

        private Builder() {
        }

        private static String norm(String path) {
            Path p = Path.of(path);
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("recorded path '" + path + "': not absolute");
            }
            return p.normalize().toString();
        }

        /** Adds {@code /proc/self/mountinfo} lines, in file order. */
        public Builder mountInfo(String... lines) {
            for (String line : lines) {
                if (!line.isBlank()) {
                    mounts.add(parseMountInfoLine(line));
                }
            }
            return this;
        }

        /** Adds an already parsed mountinfo entry. */
        public Builder mount(MountInfoEntry entry) {
            mounts.add(entry);
            return this;
        }

        /** Records the stat of {@code path} (lstat and stat, as it is not a symlink). */
        public Builder file(String path, FileStat stat) {
            files.put(norm(path), stat);
            return this;
        }

        /** Records a directory with the given owner gid, on device {@code major:minor}. */
        public Builder directory(String path, int gid, int major, int minor) {
            return file(path, new FileStat(FileStat.FileType.DIRECTORY, 0777, 0, gid, major, minor, 0, 0, 4096));
        }

        /** Records a regular file of {@code sizeBytes} on device {@code major:minor}. */
        public Builder regularFile(String path, long sizeBytes, int major, int minor) {
            return file(path, new FileStat(FileStat.FileType.REGULAR, 0644, 0, 0, major, minor, 0, 0, sizeBytes));
        }

        /** Records a block device node for device {@code rdevMajor:rdevMinor}; {@code readOnly} is its BLKROGET answer. */
        public Builder blockDevice(String path, int rdevMajor, int rdevMinor, boolean readOnly) {
            file(path, new FileStat(FileStat.FileType.BLOCK_DEVICE, 0660, 0, 6, 0, 6, rdevMajor, rdevMinor, 0));
            if (readOnly) {
                readOnlyDevices.add(norm(path));
            }
            return this;
        }

        /** Records a unix socket. */
        public Builder socket(String path) {
            return file(path, new FileStat(FileStat.FileType.SOCKET, 0600, 0, 0, 0, 0, 0, 0, 0));
        }

        /** Records a symlink at {@code path} pointing to {@code target} (absolute, or relative to the link's directory). */
        public Builder symlink(String path, String target) {
            symlinks.put(norm(path), target);
            return this;
        }

        /** Records the statfs of every path at or under {@code path} (until a longer recorded prefix). */
        public Builder statfs(String path, FsStat stat) {
            statfs.put(norm(path), stat);
            return this;
        }

        /** Records a tmpfs statfs of {@code sizeBytes} (4 KiB blocks) for {@code path}. */
        public Builder tmpfs(String path, long sizeBytes) {
            return statfs(path, new FsStat(FsStat.TMPFS_MAGIC, 4096, sizeBytes / 4096, sizeBytes / 4096));
        }

        /** Records the text of the direct-volume {@code mountInfo.json} for the volume mounted from {@code volumePath}. */
        public Builder directVolume(String volumePath, String mountInfoJson) {
            directVolumes.put(volumePath, mountInfoJson);
            return this;
        }

        /** Records what a device or image file holds (default: unknown data). */
        public Builder filesystem(String path, FsProbe probe) {
            filesystems.put(norm(path), probe);
            return this;
        }

        /** The immutable facts. */
        public RecordedHostFacts build() {
            return new RecordedHostFacts(this);
        }
    }
}
