package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;

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
}
