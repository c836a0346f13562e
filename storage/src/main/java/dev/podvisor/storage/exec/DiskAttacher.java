package dev.podvisor.storage.exec;

import java.nio.file.Path;

/** Attaches disks to the running VM (Cloud Hypervisor {@code vm.add-disk} / {@code vm.remove-device}). */
public interface DiskAttacher {

    /**
     * Hot-plugs a virtio-blk disk backed by {@code hostPath} (block device or image file).
     *
     * @return the device id and guest PCI path
     */
    AttachedDisk attach(Path hostPath, boolean readOnly);

    /**
     * Hot-plugs a vhost-user-blk disk served on the unix socket {@code socket}.
     *
     * @throws UnsupportedOperationException unless the implementation supports vhost-user-blk
     */
    default AttachedDisk attachVhostUser(Path socket, boolean readOnly) {
        throw new UnsupportedOperationException("vhost-user-blk disk " + socket + ": not supported by this hypervisor client");
    }

    /** Hot-unplugs the device {@code id}; does nothing when no such device is attached (so undo is idempotent). */
    void detach(String id);
}
