package dev.podvisor.testbed.guest;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the guest knows about its devices: exactly what the VMM stand-in told it on the control socket
 * (virtio-fs tags with their shared directories, virtio-blk disks with their PCI BDFs). Thread-safe.
 */
final class Devices {

    /**
     * A virtio-fs device.
     *
     * @param id        the VMM device id ({@code _fs1}), or null when the event did not carry one
     * @param tag       the mount tag ({@code kataShared})
     * @param sharedDir the host directory virtiofsd serves
     */
    record Fs(String id, String tag, String sharedDir) {
    }

    /**
     * A virtio-blk disk.
     *
     * @param id       the VMM device id ({@code _disk0})
     * @param bdf      PCI address {@code 0000:00:DD.0}
     * @param path     host backing file or block device; null for a disk without one (vhost-user)
     * @param readonly attached read-only
     */
    record Disk(String id, String bdf, String path, boolean readonly) {
    }

    private final Map<String, Fs> fs = new ConcurrentHashMap<>();
    private final Map<String, Disk> disks = new ConcurrentHashMap<>();

    void addFs(Fs device) {
        fs.put(device.tag(), device);
    }

    void addDisk(Disk disk) {
        disks.put(disk.id(), disk);
        synchronized (this) {
            notifyAll();
        }
    }

    /**
     * Removes the device with VMM id {@code id} (a disk, or a virtio-fs device by its id or, for events
     * without ids, its tag); returns whether one was known. Mounts already made from it stay, as in a VM.
     */
    boolean remove(String id) {
        boolean removed = disks.remove(id) != null;
        removed |= fs.values().removeIf(f -> id.equals(f.id()));
        removed |= fs.remove(id) != null;
        return removed;
    }

    Optional<Fs> fsByTag(String tag) {
        return Optional.ofNullable(fs.get(tag));
    }

    /**
     * The disk at the PCI path {@code pciPath} as the agent receives it in {@code Storage.source}: one hex
     * slot number ({@code "03"}) on the root bus, i.e. BDF {@code 0000:00:03.0}. Paths through bridges
     * ({@code "02/01"}) never match: the VMM stand-in has no bridges.
     */
    Optional<Disk> diskByPciPath(String pciPath) {
        return findDisk(pciPath);
    }

    /**
     * Like {@link #diskByPciPath}, but waits up to {@code timeout} for the disk to be hot-plugged, as the
     * kata-agent waits for the device's uevent ({@code hotplug_timeout}, 3 s by default).
     *
     * @throws InterruptedException when interrupted while waiting
     */
    Optional<Disk> awaitDiskByPciPath(String pciPath, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (true) {
                Optional<Disk> disk = findDisk(pciPath);
                long left = deadline - System.nanoTime();
                if (disk.isPresent() || left <= 0) {
                    return disk;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            }
        }
    }

    private Optional<Disk> findDisk(String pciPath) {
        if (pciPath == null || !pciPath.matches("[0-9a-fA-F]{1,2}")) {
            return Optional.empty();
        }
        String bdf = String.format(Locale.ROOT, "0000:00:%02x.0", Integer.parseInt(pciPath, 16));
        return disks.values().stream().filter(d -> d.bdf().equalsIgnoreCase(bdf)).findFirst();
    }
}
