package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.List;

/**
 * One entry of {@code VmInfo.device_tree} (OpenAPI {@code DeviceNode}).
 *
 * @param id        device id
 * @param resources resources (I/O, MMIO, PCI BAR ranges) as raw JSON, or null
 * @param parent    parent device id, or null
 * @param children  child device ids, or null
 * @param pciBdf    PCI address {@code SSSS:BB:DD.F}, or null
 */
public record DeviceNode(String id, List<JsonNode> resources, String parent, List<String> children, String pciBdf) {

    /**
     * Reads {@code {id, resources [any], parent, children [string], pci_bdf}}; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static DeviceNode fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new DeviceNode(f.text("id"), f.trees("resources"), f.text("parent"),
                f.list("children", ClhFields::text), f.text("pci_bdf"));
    }
}
