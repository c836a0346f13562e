package dev.podvisor.sandbox.cgroup;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * The file operations cgroups need, written directly on cgroupfs (no library): {@code mkdir}, read and write a
 * control file, {@code rmdir}. A test substitutes a plain directory tree.
 */
public interface CgroupFiles {

    /** Creates {@code dir} (not its parents); false when it already existed. */
    boolean mkdir(Path dir);

    /** A control file's content, trimmed; empty when it does not exist. */
    Optional<String> read(Path file);

    /** Writes {@code value} to a control file (one write, as the kernel expects). */
    void write(Path file, String value);

    /**
     * Removes an empty cgroup directory.
     *
     * @return false when it still holds processes or children ({@code EBUSY}/{@code ENOTEMPTY}) or is gone
     */
    boolean rmdir(Path dir);

    /** The real cgroup filesystems. */
    CgroupFiles LIVE = new CgroupFiles() {
        @Override
        public boolean mkdir(Path dir) {
            try {
                Files.createDirectory(dir);
                return true;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                return false;
            } catch (IOException e) {
                throw new UncheckedIOException("mkdir " + dir + ": " + e.getMessage(), e);
            }
        }

        @Override
        public Optional<String> read(Path file) {
            try {
                return Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim());
            } catch (NoSuchFileException e) {
                return Optional.empty();
            } catch (IOException e) {
                throw new UncheckedIOException("read " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void write(Path file, String value) {
            try {
                Files.writeString(file, value, StandardCharsets.UTF_8, StandardOpenOption.WRITE);
            } catch (IOException e) {
                throw new UncheckedIOException("write '" + value + "' to " + file + ": " + e.getMessage(), e);
            }
        }

        @Override
        public boolean rmdir(Path dir) {
            try {
                Files.delete(dir);
                return true;
            } catch (NoSuchFileException e) {
                return false;
            } catch (DirectoryNotEmptyException e) {
                return false;
            } catch (FileSystemException e) {
                if (String.valueOf(e.getReason()).contains("busy")) {
                    return false;
                }
                throw new UncheckedIOException("rmdir " + dir + ": " + e.getMessage(), e);
            } catch (IOException e) {
                throw new UncheckedIOException("rmdir " + dir + ": " + e.getMessage(), e);
            }
        }
    };
}
