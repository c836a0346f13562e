package dev.podvisor.sandbox;

import dev.podvisor.storage.exec.MountOperations;
import dev.podvisor.storage.linux.HostMounts;
import dev.podvisor.storage.linux.Linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * The storage executor's host operations, done for real with the FFM mount calls of
 * {@link dev.podvisor.storage.linux.HostMounts}. {@link #remove} never recurses: a directory that still holds
 * something (a bind that was not unmounted) is left in place rather than emptied through the bind.
 */
final class HostMountOperations implements MountOperations {

    @Override
    public void bind(Path source, Path target, boolean readOnly) {
        HostMounts.bind(source, target, readOnly);
    }

    @Override
    public void remountReadOnly(Path target) {
        Linux.mount("", target.toString(), "", Linux.MS_REMOUNT | Linux.MS_BIND | Linux.MS_RDONLY
                | Linux.mountFlags(target.toString()), null);
    }

    @Override
    public void makeSlave(Path target) {
        HostMounts.makeSlave(target);
    }

    @Override
    public void makeShared(Path target) {
        Linux.mount("", target.toString(), "", Linux.MS_SHARED, null);
    }

    @Override
    public void mount(String fstype, String source, Path target, List<String> options) {
        HostMounts.mount(fstype, source, target, options);
    }

    @Override
    public boolean unmount(Path target) {
        if (!HostMounts.isMountPoint(target)) {
            return false;
        }
        HostMounts.unmount(target);
        return true;
    }

    @Override
    public void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("mkdir -p " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void touch(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.createFile(file);
        } catch (FileAlreadyExistsException e) {
            // already there: a mount point file may be reused
        } catch (IOException e) {
            throw new UncheckedIOException("touch " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public boolean createSparseFile(Path file, long sizeBytes) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.truncate(0);
            channel.position(sizeBytes - 1);
            channel.write(java.nio.ByteBuffer.wrap(new byte[1]));
            return true;
        } catch (FileAlreadyExistsException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("creating sparse file " + file + " of " + sizeBytes + " bytes: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean remove(Path path) {
        try {
            return Files.deleteIfExists(path);
        } catch (DirectoryNotEmptyException e) {
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + path + ": " + e.getMessage(), e);
        }
    }
}
