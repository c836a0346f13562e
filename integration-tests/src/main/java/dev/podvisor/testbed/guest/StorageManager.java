package dev.podvisor.testbed.guest;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.LoopDevices;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Performs kata agent Storages for real under the guest root, the way the kata-agent's storage handlers
 * do (src/agent/src/storage/*, summarised in kata-storage.md §5), and undoes them.
 *
 * <ul>
 *   <li>{@code virtio-fs}: source is a tag; the device's shared directory is bind-mounted at the mount
 *       point, so the mount shows exactly what that directory holds.</li>
 *   <li>{@code blk}: source is a PCI path ({@code "03"} = BDF {@code 0000:00:03.0}); the disk must have been
 *       attached (boot or add-disk); a regular backing file gets a loop device; driver option
 *       {@code create_filesystem} runs {@code mkfs.ext4 -F -O ^has_journal -m 0 -i 163840 -I 128} first;
 *       then a mount with fstype and options.</li>
 *   <li>{@code ephemeral}: hugetlbfs with its options; otherwise the stock agent's quirk: options are
 *       parsed for {@code fsgid=} and then DROPPED, so a tmpfs starts at the kernel's default size and a
 *       {@code size=} only takes effect through {@link #updateEphemeral}.</li>
 *   <li>{@code local}: a directory with {@code mode=} (octal) and {@code fsgid=}; nothing is mounted.</li>
 *   <li>{@code bind} / {@code watchable-bind}: a bind mount of the guest path in source.</li>
 * </ul>
 * Storages are ref-counted per mount point; a {@code shared} storage stays until {@link #destroyAll}.
 * Thread-safe (one lock).
 */
final class StorageManager {

    /** How long a blk storage waits for its disk to be hot-plugged (the agent's default hotplug_timeout). */
    static final java.time.Duration HOTPLUG_TIMEOUT = java.time.Duration.ofSeconds(3);

    /** The drivers this guest handles. */
    static final List<String> DRIVERS = List.of("virtio-fs", "blk", "ephemeral", "local", "bind", "watchable-bind");

    private static final class Entry {
        final StorageRequest storage;
        final Path hostPath;
        final boolean isMount;
        final String diskId;
        int refs = 1;

        Entry(StorageRequest storage, Path hostPath, boolean isMount, String diskId) {
            this.storage = storage;
            this.hostPath = hostPath;
            this.isMount = isMount;
            this.diskId = diskId;
        }
    }

    private record Loop(String device, int refs) {
    }

    private final GuestRoot root;
    private final Devices devices;
    private final GuestEvents events;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, Loop> loops = new HashMap<>();

    StorageManager(GuestRoot root, Devices devices, GuestEvents events) {
        this.root = root;
        this.devices = devices;
        this.events = events;
    }

    /**
     * Performs {@code storages} in order (a mount point already present only gains a reference).
     *
     * @return the mount points taken, one per storage, to hand back to {@link #release}
     * @throws IllegalArgumentException for bad input (unknown driver, tag, PCI path), with nothing left
     *                                  behind
     * @throws UncheckedIOException     when a system call or helper fails, with nothing left behind
     */
    synchronized List<String> add(List<StorageRequest> storages) {
        List<String> taken = new ArrayList<>();
        try {
            for (StorageRequest storage : storages) {
                String mountPoint = key(storage.mountPoint());
                Entry existing = entries.get(mountPoint);
                if (existing != null) {
                    existing.refs++;
                } else {
                    entries.put(mountPoint, perform(storage));
                }
                taken.add(mountPoint);
            }
            return taken;
        } catch (RuntimeException e) {
            release(taken);
            throw e;
        }
    }

    /** Drops one reference per mount point (in reverse order); undoes storages left without references. */
    synchronized void release(List<String> mountPoints) {
        List<String> reversed = new ArrayList<>(mountPoints);
        Collections.reverse(reversed);
        for (String mountPoint : reversed) {
            Entry entry = entries.get(key(mountPoint));
            if (entry == null) {
                continue;
            }
            entry.refs--;
            if (entry.refs <= 0 && !entry.storage.shared()) {
                entries.remove(key(mountPoint));
                undo(entry);
            }
        }
    }

    /** Undoes every storage in reverse order of creation, then detaches every loop device. */
    synchronized void destroyAll() {
        List<Entry> all = new ArrayList<>(entries.values());
        Collections.reverse(all);
        entries.clear();
        for (Entry entry : all) {
            undo(entry);
        }
        for (Loop loop : List.copyOf(loops.values())) {
            detach(loop.device());
        }
        loops.clear();
    }

    /**
     * The VMM unplugged disk {@code diskId}: its block device is gone from the guest. Normally nothing is left
     * (the agent unmounted it at RemoveContainer and the loop device standing for it was detached). A storage
     * still mounted from it is lazily unmounted and forgotten, and its loop device detached, as a kernel drops a
     * removed virtio-blk device under a mount; logged as an {@code error} event ({@code disk-removed-while-mounted}).
     */
    synchronized void diskRemoved(String diskId) {
        List<String> orphaned = new ArrayList<>();
        entries.forEach((mountPoint, entry) -> {
            if (diskId.equals(entry.diskId)) {
                orphaned.add(mountPoint);
            }
        });
        for (String mountPoint : orphaned) {
            Entry entry = entries.remove(mountPoint);
            try {
                Linux.umount2(entry.hostPath.toString(), Linux.MNT_DETACH);
            } catch (LinuxException e) {
                // already gone
            }
            events.log("error", Map.of("action", "disk-removed-while-mounted", "disk", diskId, "mountPoint", mountPoint));
        }
        Loop loop = loops.remove(diskId);
        if (loop != null) {
            detach(loop.device());
        }
    }

    /** The guest mount points currently held, in creation order. */
    synchronized List<String> mountPoints() {
        return List.copyOf(entries.keySet());
    }

    /**
     * {@code UpdateEphemeralMounts}: re-mounts each (already mounted) ephemeral storage with
     * {@code MS_REMOUNT} and its options minus {@code fsgid=}, e.g. {@code size=64m} (kata-agent rpc.rs).
     *
     * @throws IllegalArgumentException for a non-ephemeral driver or a mount point that is not mounted
     */
    synchronized void updateEphemeral(List<StorageRequest> storages) {
        for (StorageRequest storage : storages) {
            if (!storage.driver().equals("ephemeral")) {
                throw new IllegalArgumentException("Storage.driver '" + storage.driver()
                        + "': UpdateEphemeralMounts accepts only ephemeral storages");
            }
            Entry entry = entries.get(key(storage.mountPoint()));
            if (entry == null || !entry.isMount) {
                throw new IllegalArgumentException("Storage.mount_point '" + storage.mountPoint()
                        + "': no ephemeral mount there");
            }
            List<String> options = storage.options().stream().filter(o -> !o.startsWith("fsgid=")).toList();
            MountOptions parsed = MountOptions.parse(options);
            String fstype = storage.fstype().isEmpty() ? "tmpfs" : storage.fstype();
            Linux.mount(storage.source().isEmpty() ? fstype : storage.source(), entry.hostPath.toString(), fstype,
                    parsed.flags() | MountOptions.MS_REMOUNT, parsed.data());
            events.log("storage", fields("update-ephemeral", storage, null));
        }
    }

    /** The ref-count key of a mount point: normalised, so {@code /a/b/} and {@code /a/b} are one mount. */
    private static String key(String mountPoint) {
        if (mountPoint == null || mountPoint.isEmpty()) {
            throw new IllegalArgumentException("Storage.mount_point: missing");
        }
        return Path.of(mountPoint).normalize().toString();
    }

    private Entry perform(StorageRequest storage) {
        Path target = root.host("Storage.mount_point", storage.mountPoint());
        Entry entry = switch (storage.driver()) {
            case "virtio-fs" -> virtioFs(storage, target);
            case "bind", "watchable-bind" -> bind(storage, target);
            case "ephemeral" -> ephemeral(storage, target);
            case "local" -> local(storage, target);
            case "blk" -> blk(storage, target);
            default -> throw new IllegalArgumentException("Storage.driver '" + storage.driver()
                    + "': no storage handler (this guest has " + String.join(", ", DRIVERS) + ")");
        };
        events.log("storage", fields("mount", storage, entry.diskId == null ? null : loops.get(entry.diskId)));
        return entry;
    }

    private static Map<String, Object> fields(String action, StorageRequest storage, Loop loop) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("action", action);
        map.put("driver", storage.driver());
        map.put("source", storage.source());
        map.put("fstype", storage.fstype());
        map.put("options", storage.options());
        map.put("mountPoint", storage.mountPoint());
        if (loop != null) {
            map.put("loop", loop.device());
        }
        return map;
    }

    private Entry virtioFs(StorageRequest storage, Path target) {
        Devices.Fs fs = devices.fsByTag(storage.source()).orElseThrow(() -> new IllegalArgumentException(
                "Storage.source '" + storage.source() + "': no virtio-fs device with this tag"));
        bindMount(Path.of(fs.sharedDir()), target, MountOptions.parse(storage.options()));
        return new Entry(storage, target, true, null);
    }

    private Entry bind(StorageRequest storage, Path target) {
        Path source = root.host("Storage.source", storage.source());
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("Storage.source '" + storage.source() + "': does not exist in the guest");
        }
        bindMount(source, target, MountOptions.parse(storage.options()));
        return new Entry(storage, target, true, null);
    }

    private void bindMount(Path source, Path target, MountOptions options) {
        boolean file = !Files.isDirectory(source); // files and device nodes get a file mount point
        mkdirs(file ? target.getParent() : target);
        if (file && !Files.exists(target)) {
            try {
                Files.createFile(target);
            } catch (IOException e) {
                throw new UncheckedIOException("create mount point " + target, e);
            }
        }
        Linux.mount(source.toString(), target.toString(), null, MountOptions.MS_BIND | MountOptions.MS_REC, null);
        long restrictions = options.bindRestrictions();
        if (restrictions != 0) {
            try {
                Linux.mount(null, target.toString(), null,
                        MountOptions.MS_REMOUNT | MountOptions.MS_BIND | restrictions, null);
            } catch (RuntimeException e) {
                unmount(target);
                throw e;
            }
        }
    }

    private Entry ephemeral(StorageRequest storage, Path target) {
        mkdirs(target);
        if (storage.fstype().equals("hugetlbfs")) {
            // the agent also writes nr_hugepages; the testbed leaves the host's huge page pool alone
            MountOptions options = MountOptions.parse(storage.options());
            Linux.mount("nodev", target.toString(), "hugetlbfs", options.flags(), options.data());
            return new Entry(storage, target, true, null);
        }
        Integer fsgid = fsgid(storage.options());
        String fstype = storage.fstype().isEmpty() ? "tmpfs" : storage.fstype();
        // kata-agent EphemeralHandler: options are parsed for fsgid and then cleared before mounting
        Linux.mount(storage.source().isEmpty() ? fstype : storage.source(), target.toString(), fstype, 0, null);
        if (fsgid != null) {
            try {
                setGroup(target, fsgid);
            } catch (RuntimeException e) {
                unmount(target);
                throw e;
            }
        }
        return new Entry(storage, target, true, null);
    }

    private Entry local(StorageRequest storage, Path target) {
        mkdirs(target);
        Integer fsgid = fsgid(storage.options());
        String mode = null;
        for (String option : storage.options()) {
            if (option.startsWith("mode=")) {
                mode = option.substring(5);
            }
        }
        try {
            if (mode != null) {
                int bits;
                try {
                    bits = Integer.parseInt(mode, 8);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("Storage.options 'mode=" + mode + "': not octal");
                }
                Files.setPosixFilePermissions(target, permissions(bits));
            }
            if (fsgid != null) {
                setGroup(target, fsgid);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("local storage " + target, e);
        }
        return new Entry(storage, target, false, null);
    }

    private Entry blk(StorageRequest storage, Path target) {
        Devices.Disk disk;
        try {
            disk = devices.awaitDiskByPciPath(storage.source(), HOTPLUG_TIMEOUT).orElseThrow(() ->
                    new IllegalArgumentException("Storage.source '" + storage.source()
                            + "': no virtio-blk disk attached at this PCI path (waited "
                            + HOTPLUG_TIMEOUT.toMillis() + " ms)"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for disk " + storage.source(), e);
        }
        String device = acquire(disk);
        try {
            if (storage.driverOptions().contains("create_filesystem")) {
                if (!storage.fstype().equals("ext4")) {
                    throw new IllegalArgumentException("Storage.fstype '" + storage.fstype()
                            + "': creating filesystem " + storage.fstype() + " for block storage is unsupported");
                }
                Commands.check(List.of("mkfs.ext4", "-q", "-F", "-O", "^has_journal", "-m", "0", "-i", "163840",
                        "-I", "128", device));
            }
            MountOptions options = MountOptions.parse(storage.options());
            if (storage.fstype().equals("bind")) {
                // a raw block device (Kata Go's fstype "bind"): the agent binds the device node itself onto a
                // file mount point, and the container sees the node, as with runc
                bindMount(Path.of(device), target, options);
                return new Entry(storage, target, true, disk.id());
            }
            mkdirs(target);
            Linux.mount(device, target.toString(), storage.fstype(), options.flags(), options.data());
            if (storage.fsGroup() != null) {
                setGroup(target, storage.fsGroup());
            }
            return new Entry(storage, target, true, disk.id());
        } catch (IOException e) {
            releaseLoop(disk.id());
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            releaseLoop(disk.id());
            throw e;
        }
    }

    /** The guest block device for {@code disk}: its path when it is a block device, else a loop device. */
    private String acquire(Devices.Disk disk) {
        if (disk.path() == null) {
            throw new IllegalArgumentException("disk " + disk.id() + ": has no backing path the guest can open");
        }
        Path path = Path.of(disk.path());
        Loop loop = loops.get(disk.id());
        if (loop != null) {
            loops.put(disk.id(), new Loop(loop.device(), loop.refs() + 1));
            return loop.device();
        }
        if (!Files.isRegularFile(path)) {
            if (Files.exists(path)) {
                return disk.path(); // a block device is used as is
            }
            throw new IllegalArgumentException("disk " + disk.id() + " path '" + disk.path() + "': does not exist");
        }
        String device = LoopDevices.attach(path, disk.readonly());
        loops.put(disk.id(), new Loop(device, 1));
        events.log("loop", Map.of("action", "attach", "disk", disk.id(), "path", disk.path(), "device", device));
        return device;
    }

    private void releaseLoop(String diskId) {
        Loop loop = loops.get(diskId);
        if (loop == null) {
            return;
        }
        if (loop.refs() > 1) {
            loops.put(diskId, new Loop(loop.device(), loop.refs() - 1));
        } else {
            loops.remove(diskId);
            detach(loop.device());
        }
    }

    private void detach(String device) {
        try {
            LoopDevices.detach(device);
            events.log("loop", Map.of("action", "detach", "device", device));
        } catch (LinuxException e) {
            events.log("error", Map.of("action", "loop-detach", "device", device, "message", e.getMessage()));
        }
    }

    private void undo(Entry entry) {
        if (entry.isMount) {
            unmount(entry.hostPath);
        }
        if (entry.diskId != null) {
            releaseLoop(entry.diskId);
        }
        try {
            if (entry.storage.driver().equals("local")) {
                Containers.deleteTree(entry.hostPath);
            } else if (Files.isDirectory(entry.hostPath, LinkOption.NOFOLLOW_LINKS)) {
                Files.deleteIfExists(entry.hostPath);
            }
        } catch (IOException ignored) {
            // a mount point directory that is not empty stays, as with the agent
        }
        events.log("storage", fields("unmount", entry.storage, null));
    }

    private void unmount(Path target) {
        try {
            Linux.umount2(target.toString(), 0);
        } catch (LinuxException e) {
            try {
                Linux.umount2(target.toString(), Linux.MNT_DETACH);
            } catch (LinuxException again) {
                events.log("error", Map.of("action", "umount", "path", target.toString(), "message",
                        again.getMessage()));
            }
        }
    }


    private static Integer fsgid(List<String> options) {
        for (String option : options) {
            if (option.startsWith("fsgid=")) {
                try {
                    return Integer.parseInt(option.substring(6));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("Storage.options '" + option + "': not a group id");
                }
            }
        }
        return null;
    }

    /** chgrp plus the setgid bit, as the agent does for fsgid / fs_group. */
    private static void setGroup(Path dir, int gid) {
        try {
            Files.setAttribute(dir, "unix:gid", gid);
            int mode = (Integer) Files.getAttribute(dir, "unix:mode");
            Files.setAttribute(dir, "unix:mode", mode | 02000);
        } catch (IOException e) {
            throw new UncheckedIOException("set group " + gid + " on " + dir, e);
        }
    }

    private static Set<PosixFilePermission> permissions(int bits) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((bits & (1 << i)) != 0) {
                set.add(order[i]);
            }
        }
        return set;
    }

    private static void mkdirs(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("mkdir -p " + dir, e);
        }
    }
}
