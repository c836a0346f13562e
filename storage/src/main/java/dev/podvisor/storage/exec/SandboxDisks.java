package dev.podvisor.storage.exec;

import dev.podvisor.storage.plan.DiskAttachment;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The disks attached to a sandbox's VM, one attachment per host path, ref-counted by holder (container id), so two
 * containers using the same direct volume or block-plain emptyDir share one device. Thread-safe.
 */
public final class SandboxDisks {

    private final DiskAttacher attacher;
    private final Map<String, Entry> byPath = new HashMap<>();

    private record Entry(AttachedDisk disk, boolean readOnly, Set<String> holders) {
    }

    /** @param attacher the hypervisor side */
    public SandboxDisks(DiskAttacher attacher) {
        this.attacher = Objects.requireNonNull(attacher);
    }

    /**
     * Attaches {@code disk} for {@code holder}, or reuses the attachment of the same host path.
     *
     * @throws IllegalStateException when the host path is attached read-only and {@code disk} needs it read-write
     */
    public synchronized AttachedDisk acquire(String holder, DiskAttachment disk) {
        Entry e = byPath.get(disk.hostPath());
        if (e != null) {
            if (e.readOnly() && !disk.readOnly()) {
                throw new IllegalStateException("disk " + disk.hostPath() + ": attached read-only, wanted read-write by " + holder);
            }
            e.holders().add(holder);
            return e.disk();
        }
        AttachedDisk a = switch (disk.type()) {
            case VIRTIO_BLK -> attacher.attach(Path.of(disk.hostPath()), disk.readOnly());
            case VHOST_USER_BLK -> attacher.attachVhostUser(Path.of(disk.hostPath()), disk.readOnly());
        };
        Set<String> holders = new LinkedHashSet<>();
        holders.add(holder);
        byPath.put(disk.hostPath(), new Entry(a, disk.readOnly(), holders));
        return a;
    }

    /** Registers {@code holder} for an attachment that already exists (after a restart), without touching the VM. */
    public synchronized void restore(String holder, String hostPath, AttachedDisk disk, boolean readOnly) {
        byPath.computeIfAbsent(hostPath, k -> new Entry(disk, readOnly, new LinkedHashSet<>())).holders().add(holder);
    }

    /**
     * Drops {@code holder}; the last one detaches the device. Unknown attachments (a crashed process's) are detached by
     * {@code deviceId}. Idempotent.
     *
     * @return true when {@link DiskAttacher#detach} was called
     */
    public synchronized boolean release(String holder, String hostPath, String deviceId) {
        Entry e = byPath.get(hostPath);
        if (e != null) {
            e.holders().remove(holder);
            if (!e.holders().isEmpty()) {
                return false;
            }
            byPath.remove(hostPath);
            attacher.detach(e.disk().id());
            return true;
        }
        attacher.detach(deviceId);
        return true;
    }
}
