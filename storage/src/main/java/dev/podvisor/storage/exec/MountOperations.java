package dev.podvisor.storage.exec;

import java.nio.file.Path;
import java.util.List;

/**
 * The host mount operations executing a plan needs. The live implementation makes the system calls (mount(2),
 * umount2(2)); tests use an in-memory fake. Paths are absolute. Implementations throw
 * {@link java.io.UncheckedIOException} (or another runtime exception) naming the call, the path and the errno text.
 */
public interface MountOperations {

    /**
     * Bind-mounts {@code source} on {@code target} ({@code MS_BIND|MS_REC}), then, when {@code readOnly}, remounts the
     * bind read-only ({@code MS_REMOUNT|MS_BIND|MS_RDONLY}), so the host side enforces read-only. {@code target} must
     * exist (a directory for a directory source, a file for a file source).
     */
    void bind(Path source, Path target, boolean readOnly);

    /** Remounts the mount at {@code target} read-only ({@code MS_REMOUNT|MS_BIND|MS_RDONLY}). */
    void remountReadOnly(Path target);

    /** Makes the mount at {@code target} a recursive slave ({@code MS_SLAVE|MS_REC}): it receives, never sends, mount events. */
    void makeSlave(Path target);

    /**
     * Makes the mount at {@code target} shared (its own peer group), so mounts made under it later propagate
     * to its binds that are slaves of it.
     */
    void makeShared(Path target);

    /**
     * Mounts a filesystem ({@code mount -t fstype -o options source target}); flag options ({@code ro}, {@code nosuid},
     * {@code bind}...) become mount flags, the rest the data string ({@code lowerdir=...}).
     */
    void mount(String fstype, String source, Path target, List<String> options);

    /**
     * Unmounts the top-most mount at {@code target} ({@code umount2(target, MNT_DETACH)}).
     *
     * @return false when nothing is mounted there or {@code target} does not exist (so undo is idempotent)
     */
    boolean unmount(Path target);

    /** Creates {@code dir} and its missing parents (mode 0755); nothing when it exists. */
    void mkdirs(Path dir);

    /** Creates an empty file {@code file} (mode 0644) if it does not exist; its parent must exist. */
    void touch(Path file);

    /**
     * Creates a sparse file of apparent size {@code sizeBytes} (ftruncate) unless {@code file} exists.
     *
     * @return true when it was created, false when it existed
     */
    boolean createSparseFile(Path file, long sizeBytes);

    /**
     * Removes a file or an empty directory.
     *
     * @return false when it does not exist or is a directory that is not empty
     */
    boolean remove(Path path);
}
