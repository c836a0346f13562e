package dev.podvisor.storage.directvolume;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.linux.LiveHostFacts;
import dev.podvisor.storage.plan.DiskAttachment;
import dev.podvisor.storage.plan.DirectVolumeInfo;
import dev.podvisor.storage.plan.PlanException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The direct-volume records on the host, as {@code kata-runtime direct-volume} keeps them (Kata
 * src/runtime/pkg/direct-volume/utils.go): one directory per volume path,
 * {@code <root>/<base64url(volume path), padded>} (mode 0700), holding {@code mountInfo.json} (0600, the text as
 * given) and, once a sandbox uses the volume, an empty file named after the sandbox id (0600).
 * The default root is {@value #DEFAULT_ROOT_TEXT}.
 */
public final class DirectVolumeStore {

    /** The record's file name. */
    public static final String MOUNT_INFO = "mountInfo.json";
    static final String DEFAULT_ROOT_TEXT = "/run/kata-containers/shared/direct-volumes";

    private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

    private final Path root;

    /** @param root the direct-volumes root ({@code [podvisor] direct_volumes_root}) */
    public DirectVolumeStore(Path root) {
        this.root = root;
    }

    /** {@code <root>/<base64url(volumePath)>}. */
    public Path directory(String volumePath) {
        return root.resolve(LiveHostFacts.directVolumeKey(volumePath));
    }

    /**
     * Validates and records a direct volume ({@code direct-volume add}). Stricter than Kata, which accepts any
     * JSON: the record must be what the planner will accept at create time, and its device must exist.
     *
     * @param volumePath    the path the volume is published to (non-empty)
     * @param mountInfoJson the record, e.g. {@code {"volume-type":"directvol","device":"/dev/loop3","fstype":"ext4"}}
     * @throws PlanException   naming the key and value (see {@link DirectVolumeInfo#parse}; device missing, or
     *                         neither a block device nor a regular file for virtio-blk, nor a socket for
     *                         vhost-user-blk; fstype missing); nothing is written then
     * @throws UncheckedIOException when the files cannot be written (what was created is removed)
     */
    public void add(String volumePath, String mountInfoJson) {
        if (volumePath == null || volumePath.isEmpty()) {
            throw new PlanException("--volume-path: missing");
        }
        validate(volumePath, mountInfoJson);
        Path dir = directory(volumePath);
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new PlanException(dir + " should be a directory");
        }
        boolean created = !Files.exists(dir);
        try {
            createPrivateDirectories(dir);
            writePrivate(dir.resolve(MOUNT_INFO), mountInfoJson);
        } catch (IOException e) {
            if (created) {
                deleteTree(dir);
            }
            throw new UncheckedIOException("direct volume " + volumePath + ": cannot write " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Removes the volume's record and everything in its directory; absent is fine (Kata: os.RemoveAll). */
    public void remove(String volumePath) {
        deleteTree(directory(volumePath));
    }

    /**
     * The volume's record, validated.
     *
     * @return empty when the volume has no record
     * @throws PlanException when the record does not parse (naming the key)
     */
    public Optional<DirectVolumeInfo> info(String volumePath) {
        try {
            String text = Files.readString(directory(volumePath).resolve(MOUNT_INFO));
            return Optional.of(DirectVolumeInfo.parse(text, volumePath));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("direct volume " + volumePath + ": " + e.getMessage(), e);
        }
    }

    /**
     * Notes that {@code sandboxId} uses the volume: the empty file {@code <dir>/<sandboxId>} (0600), which
     * {@code stats} and {@code resize} use to find the shim (Kata: RecordSandboxID).
     *
     * @throws UncheckedIOException when the volume has no record or the file cannot be written
     */
    public void recordSandbox(String sandboxId, String volumePath) {
        Path dir = directory(volumePath);
        try {
            if (!Files.isRegularFile(dir.resolve(MOUNT_INFO))) {
                throw new NoSuchFileException(dir.resolve(MOUNT_INFO).toString());
            }
            writePrivate(dir.resolve(sandboxId), "");
        } catch (IOException e) {
            throw new UncheckedIOException("direct volume " + volumePath + ": cannot record sandbox " + sandboxId
                    + ": " + e, e);
        }
    }

    /**
     * The sandbox using the volume: the first file of its directory other than {@value #MOUNT_INFO} (Kata:
     * GetSandboxIDForVolume; a volume is used by one sandbox at a time).
     *
     * @throws IllegalStateException "no sandbox found for PATH" when none uses it, or the volume has no record
     */
    public String sandboxId(String volumePath) {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory(volumePath))) {
            for (Path entry : entries) {
                if (!entry.getFileName().toString().equals(MOUNT_INFO)) {
                    return entry.getFileName().toString();
                }
            }
        } catch (NoSuchFileException e) {
            throw new IllegalStateException("no direct volume recorded for " + volumePath);
        } catch (IOException e) {
            throw new UncheckedIOException("direct volume " + volumePath + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException("no sandbox found for " + volumePath);
    }

    private static void validate(String volumePath, String json) {
        String at = "mountInfo.json of direct volume " + volumePath;
        DirectVolumeInfo info = DirectVolumeInfo.parse(json, volumePath);
        DiskAttachment.DiskType type = info.diskType(volumePath);
        String device = info.hostDevice(volumePath);
        if (info.fstype().isEmpty()) {
            throw new PlanException(at + ": key 'fstype': missing");
        }
        Optional<FileStat> stat = new LiveHostFacts().stat(Path.of(device));
        if (stat.isEmpty()) {
            throw new PlanException(at + ": key 'device': '" + device + "' does not exist");
        }
        FileStat st = stat.get();
        if (type == DiskAttachment.DiskType.VHOST_USER_BLK && st.type() != FileStat.FileType.SOCKET) {
            throw new PlanException(at + ": key 'device': '" + device + "' is not a unix socket (volume-type "
                    + info.volumeType() + ")");
        }
        if (type == DiskAttachment.DiskType.VIRTIO_BLK && !st.isBlockDevice() && !st.isRegularFile()) {
            throw new PlanException(at + ": key 'device': '" + device + "' is neither a block device nor a regular file");
        }
    }

    private static void createPrivateDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createPrivateDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            Files.setPosixFilePermissions(dir, DIR_MODE); // the umask may have taken bits away
        } catch (FileAlreadyExistsException raced) {
            // made meanwhile by another add
        }
    }

    private static void writePrivate(Path file, String text) throws IOException {
        Files.write(file, text.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        Files.setPosixFilePermissions(file, FILE_MODE);
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + dir + ": " + e.getMessage(), e);
        }
    }
}
