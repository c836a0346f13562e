package dev.podvisor.storage.exec;

/**
 * A disk attached to the VM.
 *
 * @param id      the hypervisor's device id (Cloud Hypervisor {@code PciDeviceInfo.id}, used by {@code vm.remove-device})
 * @param pciPath the guest PCI path the agent resolves ({@code 03} for bdf {@code 0000:00:03.0}), the
 *                {@code Storage.source} of driver {@code blk}
 */
public record AttachedDisk(String id, String pciPath) {
}
