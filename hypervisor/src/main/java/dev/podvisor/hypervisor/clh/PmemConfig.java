package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * A virtio-pmem device (OpenAPI {@code PmemConfig}); Kata boots a guest image this way (runtime-rs
 * {@code ch-config/src/convert.rs}, Go {@code clh.go}: {@code discard_writes true}).
 *
 * @param file          host path of the image (required)
 * @param size          size in bytes, or null (file size)
 * @param iommu         behind the virtual IOMMU, or null
 * @param discardWrites map privately so guest writes never reach the file, or null
 * @param pciSegment    PCI segment, or null
 * @param id            device id, or null
 */
public record PmemConfig(String file, Long size, Boolean iommu, Boolean discardWrites, Integer pciSegment,
                         String id) {

    /** @return {@code {file, size, iommu, discard_writes, pci_segment, id}}, size in bytes, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("file", file).put("size", size).put("iommu", iommu)
                .put("discard_writes", discardWrites).put("pci_segment", pciSegment).put("id", id).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static PmemConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new PmemConfig(f.text("file"), f.longValue("size"), f.bool("iommu"), f.bool("discard_writes"),
                f.integer("pci_segment"), f.text("id"));
    }
}
