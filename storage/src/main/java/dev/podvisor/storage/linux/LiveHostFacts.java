package dev.podvisor.storage.linux;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.host.FsStat;
import dev.podvisor.storage.host.HostFacts;
import dev.podvisor.storage.host.MountInfoEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@link HostFacts} read from the live machine. {@link #mounts()} reads {@code /proc/self/mountinfo} once,
 * on first use, and keeps that snapshot for the life of the instance (make a new instance for fresh facts);
 * everything else is asked anew each time. Thread-safe; changes nothing on the host.
 */
public final class LiveHostFacts implements HostFacts {

    /** Kata's host direct-volume root (Go pkg/direct-volume {@code kataDirectVolumeRootPath}). */
    public static final Path DEFAULT_DIRECT_VOLUMES_ROOT = Path.of("/run/kata-containers/shared/direct-volumes");

    private static final int S_IFMT = 0170000;
    private final Path directVolumesRoot;
    private volatile List<MountInfoEntry> mounts;

    /** Facts with the default direct-volume root {@link #DEFAULT_DIRECT_VOLUMES_ROOT}. */
    public LiveHostFacts() {
        this(DEFAULT_DIRECT_VOLUMES_ROOT);
    }

    /** Facts reading direct-volume records under {@code directVolumesRoot}. */
    public LiveHostFacts(Path directVolumesRoot) {
        this.directVolumesRoot = directVolumesRoot;
    }

    @Override
    public List<MountInfoEntry> mounts() {
        List<MountInfoEntry> m = mounts;
        if (m == null) {
            synchronized (this) {
                m = mounts;
                if (m == null) {
                    m = MountInfo.read();
                    mounts = m;
                }
            }
        }
        return m;
    }

    @Override
    public Optional<FileStat> lstat(Path path) {
        return stat(path, LinkOption.NOFOLLOW_LINKS);
    }

    @Override
    public Optional<FileStat> stat(Path path) {
        return stat(path, new LinkOption[0]);
    }

    private static Optional<FileStat> stat(Path path, LinkOption... options) {
        Map<String, Object> a;
        try {
            a = Files.readAttributes(path, "unix:*", options);
        } catch (NoSuchFileException | NotDirectoryException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("stat " + path + ": " + e.getMessage(), e);
        }
        return Optional.of(fileStat(a));
    }

    /** Builds a {@link FileStat} from the {@code unix:*} attributes of a file. */
    static FileStat fileStat(Map<String, Object> a) {
        int mode = (Integer) a.get("mode");
        long dev = (Long) a.get("dev");
        long rdev = (Long) a.get("rdev");
        return new FileStat(fileType(mode), mode & 07777, (Integer) a.get("uid"), (Integer) a.get("gid"),
                major(dev), minor(dev), major(rdev), minor(rdev), (Long) a.get("size"));
    }

    /** The file type of {@code st_mode & S_IFMT}. */
    static FileStat.FileType fileType(int mode) {
        return switch (mode & S_IFMT) {
            case 0100000 -> FileStat.FileType.REGULAR;
            case 0040000 -> FileStat.FileType.DIRECTORY;
            case 0120000 -> FileStat.FileType.SYMLINK;
            case 0060000 -> FileStat.FileType.BLOCK_DEVICE;
            case 0020000 -> FileStat.FileType.CHAR_DEVICE;
            case 0010000 -> FileStat.FileType.FIFO;
            case 0140000 -> FileStat.FileType.SOCKET;
            default -> throw new IllegalArgumentException("st_mode: unknown file type: 0" + Integer.toOctalString(mode));
        };
    }

    /** glibc {@code gnu_dev_major}: bits 8–19 and 32–43 of a 64-bit {@code dev_t}. */
    public static int major(long dev) {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0xfffL));
    }

    /** glibc {@code gnu_dev_minor}: bits 0–7 and 20–31 of a 64-bit {@code dev_t}. */
    public static int minor(long dev) {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0xffL));
    }

    @Override
    public FsStat statfs(Path path) {
        return Linux.statfs(path.toString());
    }

    @Override
    public boolean blockDeviceReadOnly(Path device) {
        return Linux.blockDeviceReadOnly(device.toString());
    }

    @Override
    public dev.podvisor.storage.host.FsProbe probeFilesystem(Path device) {
        return FilesystemProbe.probe(device);
    }

    @Override
    public Path realPath(Path path) {
        try {
            return path.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("realpath " + path + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Optional<String> directVolumeMountInfo(String volumePath) {
        Path file = directVolumesRoot.resolve(directVolumeKey(volumePath)).resolve("mountInfo.json");
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException | NotDirectoryException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("read direct-volume record " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The directory name of a direct volume: URL-safe base64 <em>with</em> padding of the volume path's
     * UTF-8 bytes (Go {@code base64.URLEncoding}, Kata src/runtime/pkg/direct-volume/utils.go).
     */
    public static String directVolumeKey(String volumePath) {
        return Base64.getUrlEncoder().encodeToString(volumePath.getBytes(StandardCharsets.UTF_8));
    }
}
