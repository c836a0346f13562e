package dev.podvisor.storage.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Directories that hold or expose host data (a sandbox's state directory, its share tree {@code <shared_root>/<sid>}
 * with {@code rw/} and {@code ro/}): created mode 0700, owned by the shim's user (root in production), whatever the
 * umask, so no other host user can walk through them to a bind source or a container's rootfs (issue 8, case 4;
 * containerd keeps a bundle's rootfs 0700 for the same reason).
 */
public final class PrivateDirs {

    /** rwx for the owner only. */
    public static final Set<PosixFilePermission> MODE = PosixFilePermissions.fromString("rwx------");

    private PrivateDirs() {
    }

    /**
     * Creates {@code dir} and its missing parents; {@code dir} itself (and each parent it had to create below the
     * first existing one) gets mode 0700. An existing {@code dir} is tightened to 0700 too.
     *
     * @throws UncheckedIOException naming the directory when it cannot be created or its mode set
     */
    public static Path create(Path dir) {
        try {
            Path absolute = dir.toAbsolutePath();
            Path existing = absolute;
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            Files.createDirectories(absolute);
            for (Path p = absolute; p != null && !p.equals(existing); p = p.getParent()) {
                Files.setPosixFilePermissions(p, MODE);
            }
            Files.setPosixFilePermissions(absolute, MODE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("creating private directory " + dir + ": " + e.getMessage(), e);
        }
    }
}
