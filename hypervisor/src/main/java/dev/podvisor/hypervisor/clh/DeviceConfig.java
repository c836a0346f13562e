package dev.podvisor.hypervisor.clh;

/**
 * A VFIO device: {@code VmConfig.devices[]} and the body of {@code PUT vm.add-device} (OpenAPI
 * {@code DeviceConfig}).
 *
 * @param path       sysfs path of the host device, e.g. {@code /sys/bus/pci/devices/0000:3b:00.0}
 * @param iommu      behind the virtual IOMMU, or null
 * @param pciSegment PCI segment, or null
 * @param id         device id, or null
 */
public record DeviceConfig(String path, Boolean iommu, Integer pciSegment, String id) {
}
