package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Map;

/**
 * Answer of {@code GET vm.info} (OpenAPI {@code VmInfo}).
 *
 * @param config           the VM's current configuration (hot-plugged devices included)
 * @param state            {@value #CREATED}, {@value #RUNNING}, {@value #SHUTDOWN}, {@value #PAUSED} or
 *                         {@code BreakPoint}
 * @param memoryActualSize guest memory in bytes, or null
 * @param deviceTree       devices by id, or null
 */
public record VmInfo(VmConfig config, String state, Long memoryActualSize, Map<String, DeviceNode> deviceTree) {
    /** State after {@code vm.create}. */
    public static final String CREATED = "Created";
    /** State after {@code vm.boot} / {@code vm.resume}. */
    public static final String RUNNING = "Running";
    /** State after {@code vm.shutdown}. */
    public static final String SHUTDOWN = "Shutdown";
    /** State after {@code vm.pause}. */
    public static final String PAUSED = "Paused";

    /**
     * Reads a {@code vm.info} answer {@code {config, state, memory_actual_size, device_tree: {id: DeviceNode}}};
     * unknown keys are ignored, absent ones read null.
     *
     * @param json the parsed answer
     * @return the info
     * @throws IOException when the answer is not an object or a value has the wrong type (the message names its
     *                     path, e.g. {@code config.cpus.boot_vcpus}), or a console mode is unknown
     */
    public static VmInfo fromJson(JsonNode json) throws IOException {
        ClhFields f = ClhFields.of(json, "");
        return new VmInfo(f.get("config", VmConfig::fromJson), f.text("state"), f.longValue("memory_actual_size"),
                f.map("device_tree", DeviceNode::fromJson));
    }
}
