package dev.podvisor.hypervisor.clh;

import java.util.List;

/**
 * {@code VmConfig.platform} (OpenAPI {@code PlatformConfig}).
 *
 * @param numPciSegments PCI segments, or null (1)
 * @param iommuSegments  segments behind the IOMMU, or null
 * @param serialNumber   SMBIOS serial number, or null
 * @param uuid           SMBIOS UUID, or null
 * @param oemStrings     SMBIOS OEM strings, or null
 */
public record PlatformConfig(Integer numPciSegments, List<Integer> iommuSegments, String serialNumber, String uuid,
                             List<String> oemStrings) {
}
