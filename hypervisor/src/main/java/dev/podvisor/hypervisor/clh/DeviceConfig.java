package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

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

    /** @return {@code {path, iommu, pci_segment, id}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("path", path).put("iommu", iommu).put("pci_segment", pciSegment).put("id", id)
                .node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static DeviceConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new DeviceConfig(f.text("path"), f.bool("iommu"), f.integer("pci_segment"), f.text("id"));
    }
}
