package dev.podvisor.hypervisor.clh;

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
}
