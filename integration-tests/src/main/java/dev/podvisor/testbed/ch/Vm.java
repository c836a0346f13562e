package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.testbed.log.TestbedLog;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one VM a cloud-hypervisor stand-in models: its {@code VmConfig} (with the serde defaults filled in and
 * the device ids written back, as CH's {@code vm.info} shows them), its state ({@code null} before
 * {@code vm.create}, then {@code Created}, {@code Running}, {@code Paused}, {@code Shutdown}), its PCI
 * devices and the runtime parts of a booted VM (virtio-fs backend connections, the hybrid vsock front, the
 * guest). Not thread-safe: every access happens under the stand-in's VMM lock.
 */
final class Vm {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The VmConfig lists that hold PCI devices, in CH's creation order. */
    static final List<String> DEVICE_LISTS = List.of("disks", "net", "fs", "pmem", "devices", "user_devices", "vdpa");

    final Path vmDir;
    final CloudHypervisorStandIn.Options options;
    final TestbedLog log;
    final PciBus bus = new PciBus();
    final Map<String, FsBackends.FsBackend> fsBackends = new LinkedHashMap<>();
    final NetDevices nets;
    ObjectNode config;
    String state;
    HybridVsock vsock;
    AsyncGuest guest;

    Vm(Path vmDir, CloudHypervisorStandIn.Options options, TestbedLog log) {
        this.vmDir = vmDir;
        this.options = options;
        this.log = log;
        this.nets = new NetDevices(log);
    }

    /** @return true when the VM runs or is paused */
    boolean booted() {
        return "Running".equals(state) || "Paused".equals(state);
    }

    /** @param what outer error message @throws ApiError 404 "The VM is not created" */
    void requireCreated(String what) throws ApiError {
        if (config == null) {
            throw ApiError.of(404, "Error from API", what, "The VM is not created");
        }
    }

    /** @param what outer error message @throws ApiError 404 before create, 500 when not booted */
    void requireBooted(String what) throws ApiError {
        requireCreated(what);
        if (!booted()) {
            throw ApiError.of(500, "Error from API", what, "The VM is not booted");
        }
    }

    /** @param name a VmConfig list @return it, or an empty array when absent */
    ArrayNode arr(String name) {
        JsonNode n = config.get(name);
        return n instanceof ArrayNode a ? a : JSON.createArrayNode();
    }

    /** @param name a VmConfig list @return it, created when absent */
    ArrayNode list(String name) {
        return config.get(name) instanceof ArrayNode a ? a : config.putArray(name);
    }

    /** @param id a device id @return true when a device entry of the config has it */
    boolean configHasId(String id) {
        for (String list : DEVICE_LISTS) {
            for (JsonNode d : arr(list)) {
                if (d.hasNonNull("id") && d.get("id").asText().equals(id)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** @param prefix e.g. {@code _disk} @return the next id of CH's shared counter not used anywhere */
    String nextId(String prefix) {
        return bus.nextId(prefix, this::configHasId);
    }

    /** @param event a control event, dropped when no guest runs */
    void sendToGuest(Map<String, Object> event) {
        if (guest != null) {
            guest.send(event);
        }
    }

    /** Forgets the VM (vm.delete, vmm.shutdown): call {@link #teardown} first. */
    void forget() {
        nets.closeAll();
        config = null;
        state = null;
    }

    /**
     * Stops the guest, the guest NICs' relays (their fds closed, guest taps removed), closes vsock and
     * vhost-user connections, frees the PCI bus; keeps the config.
     */
    void teardown(String why) {
        if (guest != null) {
            guest.close();
            guest = null;
        }
        nets.closeRunning();
        if (vsock != null) {
            vsock.close();
            vsock = null;
        }
        fsBackends.values().forEach(FsBackends.FsBackend::close);
        fsBackends.clear();
        bus.clear();
        log.log("ch", "vm-teardown", Map.of("reason", why));
    }

    /** @return a fresh JSON object */
    static ObjectNode object() {
        return JSON.createObjectNode();
    }
}
