package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.payload}: what Cloud Hypervisor boots (OpenAPI {@code PayloadConfig}, v28+ layout).
 *
 * @param kernel    host path of the guest kernel (vmlinux), or null
 * @param cmdline   kernel command line, or null
 * @param initramfs host path of the initrd, or null
 * @param firmware  host path of a firmware, or null (Podvisor never sets it)
 */
public record PayloadConfig(String kernel, String cmdline, String initramfs, String firmware) {

    /** @return {@code {kernel, cmdline, initramfs, firmware}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("kernel", kernel).put("cmdline", cmdline).put("initramfs", initramfs)
                .put("firmware", firmware).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static PayloadConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new PayloadConfig(f.text("kernel"), f.text("cmdline"), f.text("initramfs"), f.text("firmware"));
    }
}
