package dev.podvisor.storage.plan;

import java.util.List;
import java.util.function.Function;

/**
 * A template of the kata agent {@code Storage} message (agent.proto Storage: driver=1, driver_options=2, source=3,
 * fstype=4, options=5, mount_point=6, fs_group=7, shared=8).
 *
 * @param driver        agent driver: {@code virtio-fs}, {@code ephemeral}, {@code blk}, {@code local}
 * @param driverOptions driver options ({@code create_filesystem}, {@code encryption_key=ephemeral})
 * @param source        {@code Storage.source}; for a disk the placeholder {@code disk:<id>}, to be replaced by the
 *                      PCI path at execution ({@link #resolve})
 * @param fstype        filesystem type in the guest
 * @param options       mount options
 * @param mountPoint    guest mount point
 * @param fsGroup       the group to give the files, or null
 * @param shared        keep the mount until the sandbox ends ({@code Storage.shared})
 * @param sizeBytes     for {@code ephemeral} tmpfs: size to apply afterwards with UpdateEphemeralMounts
 *                      ({@code remount,size=<bytes>}), because the stock agent drops options other than
 *                      {@code fsgid=} when it creates the tmpfs; 0 for none
 * @param diskId        the plan-local disk id whose PCI path becomes {@code source}, or null
 */
public record GuestStorage(
        String driver,
        List<String> driverOptions,
        String source,
        String fstype,
        List<String> options,
        String mountPoint,
        FsGroup fsGroup,
        boolean shared,
        long sizeBytes,
        String diskId) {

    public GuestStorage {
        driverOptions = List.copyOf(driverOptions);
        options = List.copyOf(options);
    }

    /**
     * {@code Storage.fs_group}.
     *
     * @param groupId          the gid
     * @param onRootMismatch   {@code OnRootMismatch} (true) or {@code Always} (false) change policy
     */
    public record FsGroup(int groupId, boolean onRootMismatch) {
    }

    /**
     * This storage with {@code source} set to the PCI path of its disk (no change when {@link #diskId} is null).
     *
     * @param pciPathOfDisk plan-local disk id to PCI path (e.g. {@code 03}); must answer for {@link #diskId}
     * @throws IllegalStateException when the function answers null
     */
    public GuestStorage resolve(Function<String, String> pciPathOfDisk) {
        if (diskId == null) {
            return this;
        }
        String pci = pciPathOfDisk.apply(diskId);
        if (pci == null) {
            throw new IllegalStateException("storage " + mountPoint + ": no PCI path for disk " + diskId);
        }
        return new GuestStorage(driver, driverOptions, pci, fstype, options, mountPoint, fsGroup, shared, sizeBytes, null);
    }
}
