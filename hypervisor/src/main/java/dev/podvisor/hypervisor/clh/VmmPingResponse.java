package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.List;

/**
 * Answer of {@code GET vmm.ping} (OpenAPI {@code VmmPingResponse}).
 *
 * @param buildVersion build version string, or null
 * @param version      Cloud Hypervisor version (required by the spec)
 * @param pid          the VMM's process id, or null (older versions)
 * @param features     compiled-in features, or null
 */
public record VmmPingResponse(String buildVersion, String version, Long pid, List<String> features) {

    /**
     * Reads {@code {build_version, version, pid, features [string]}}; unknown keys ignored, absent ones read null.
     *
     * @param json the parsed answer
     * @return the answer
     * @throws IOException when the answer is not an object or a value has the wrong type
     */
    public static VmmPingResponse fromJson(JsonNode json) throws IOException {
        ClhFields f = ClhFields.of(json, "");
        return new VmmPingResponse(f.text("build_version"), f.text("version"), f.longValue("pid"),
                f.list("features", ClhFields::text));
    }
}
