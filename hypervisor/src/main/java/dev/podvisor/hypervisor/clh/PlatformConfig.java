package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.JsonTrees;

import java.io.IOException;
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

    /**
     * @return {@code {num_pci_segments, iommu_segments [int], serial_number, uuid, oem_strings [string]}}, nulls
     *         left out
     */
    public ObjectNode toJson() {
        return new ClhObject().put("num_pci_segments", numPciSegments)
                .putList("iommu_segments", iommuSegments, JsonTrees.NODES::numberNode)
                .put("serial_number", serialNumber).put("uuid", uuid)
                .putList("oem_strings", oemStrings, JsonTrees.NODES::textNode).node();
    }

    /**
     * Reads {@link #toJson()}'s shape (other keys such as {@code tdx} ignored).
     *
     * @throws IOException for a value of the wrong type
     */
    static PlatformConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new PlatformConfig(f.integer("num_pci_segments"), f.list("iommu_segments", ClhFields::integer),
                f.text("serial_number"), f.text("uuid"), f.list("oem_strings", ClhFields::text));
    }
}
