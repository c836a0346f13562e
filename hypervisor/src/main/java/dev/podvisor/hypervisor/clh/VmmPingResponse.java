package dev.podvisor.hypervisor.clh;

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
}
