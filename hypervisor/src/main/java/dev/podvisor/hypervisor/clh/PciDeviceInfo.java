package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;

/**
 * Cloud Hypervisor's answer to a hot-plug (OpenAPI {@code PciDeviceInfo}).
 *
 * @param id  device id, e.g. {@code _disk2}; needed for {@code vm.remove-device}
 * @param bdf PCI address {@code SSSS:BB:DD.F}; {@link PciPaths#fromBdf(String)} turns it into a PCI path
 */
public record PciDeviceInfo(String id, String bdf) {

    /**
     * Reads {@code {"id": "_disk2", "bdf": "0000:00:05.0"}}; unknown keys ignored, absent ones read null.
     *
     * @param json the parsed answer
     * @return the info
     * @throws IOException when the answer is not an object or a value is not text
     */
    public static PciDeviceInfo fromJson(JsonNode json) throws IOException {
        ClhFields f = ClhFields.of(json, "");
        return new PciDeviceInfo(f.text("id"), f.text("bdf"));
    }
}
