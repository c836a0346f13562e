package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.rng} (OpenAPI {@code RngConfig}).
 *
 * @param src   host entropy source (Kata: {@code /dev/urandom})
 * @param iommu behind the virtual IOMMU, or null
 */
public record RngConfig(String src, Boolean iommu) {

    /** @return {@code {src, iommu}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("src", src).put("iommu", iommu).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static RngConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new RngConfig(f.text("src"), f.bool("iommu"));
    }
}
