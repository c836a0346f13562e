package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.vsock} (OpenAPI {@code VsockConfig}): Cloud Hypervisor's hybrid vsock, a guest vsock device
 * whose host side is a unix socket ({@code CONNECT <port>\n} handshake, see
 * {@link dev.podvisor.hypervisor.vsock.HybridVsock}).
 *
 * @param cid        guest context id (≥ 3; Kata: 3)
 * @param socket     host unix socket path
 * @param iommu      behind the virtual IOMMU, or null
 * @param pciSegment PCI segment, or null
 * @param id         device id, or null
 */
public record VsockConfig(long cid, String socket, Boolean iommu, Integer pciSegment, String id) {

    /** @return {@code {cid, socket, iommu, pci_segment, id}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("cid", cid).put("socket", socket).put("iommu", iommu)
                .put("pci_segment", pciSegment).put("id", id).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored, an absent cid reads 0.
     *
     * @throws IOException for a value of the wrong type
     */
    static VsockConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new VsockConfig(f.long0("cid"), f.text("socket"), f.bool("iommu"), f.integer("pci_segment"),
                f.text("id"));
    }
}
