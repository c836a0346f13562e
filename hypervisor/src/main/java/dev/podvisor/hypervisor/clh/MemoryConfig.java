package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.memory} (OpenAPI {@code MemoryConfig}). Sizes are in bytes. {@code shared} must be true
 * when a vhost-user device such as virtio-fs is attached (Cloud Hypervisor refuses the VM otherwise).
 *
 * @param size          boot memory in bytes (required)
 * @param hotplugSize   hot-pluggable memory in bytes, or null
 * @param hotpluggedSize already hot-plugged bytes (as reported in {@code vm.info}), or null
 * @param mergeable     KSM, or null
 * @param hotplugMethod {@code "Acpi"} or {@code "VirtioMem"}, or null
 * @param shared        map guest memory MAP_SHARED, or null
 * @param hugepages     back with huge pages, or null
 * @param hugepageSize  huge page size in bytes, or null
 * @param prefault      pre-fault guest memory, or null
 * @param thp           transparent huge pages, or null
 */
public record MemoryConfig(long size, Long hotplugSize, Long hotpluggedSize, Boolean mergeable, String hotplugMethod,
                           Boolean shared, Boolean hugepages, Long hugepageSize, Boolean prefault, Boolean thp) {

    /**
     * Boot memory of {@code sizeBytes}, optionally shared, every other field left to Cloud Hypervisor.
     *
     * @param sizeBytes boot memory in bytes
     * @param shared    whether guest memory is shared (needed by virtio-fs)
     * @return the config
     */
    public static MemoryConfig of(long sizeBytes, boolean shared) {
        return new MemoryConfig(sizeBytes, null, null, null, null, shared, null, null, null, null);
    }

    /**
     * @return {@code {size, hotplug_size, hotplugged_size, mergeable, hotplug_method, shared, hugepages,
     *         hugepage_size, prefault, thp}}, sizes in bytes, nulls left out
     */
    public ObjectNode toJson() {
        return new ClhObject().put("size", size).put("hotplug_size", hotplugSize)
                .put("hotplugged_size", hotpluggedSize).put("mergeable", mergeable)
                .put("hotplug_method", hotplugMethod).put("shared", shared).put("hugepages", hugepages)
                .put("hugepage_size", hugepageSize).put("prefault", prefault).put("thp", thp).node();
    }

    /**
     * Reads {@link #toJson()}'s shape (other keys such as {@code zones} ignored; an absent size reads 0).
     *
     * @throws IOException for a value of the wrong type
     */
    static MemoryConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new MemoryConfig(f.long0("size"), f.longValue("hotplug_size"), f.longValue("hotplugged_size"),
                f.bool("mergeable"), f.text("hotplug_method"), f.bool("shared"), f.bool("hugepages"),
                f.longValue("hugepage_size"), f.bool("prefault"), f.bool("thp"));
    }
}
