package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The endpoints that read or change the VM as a whole: {@code vm.create}, {@code vm.info},
 * {@code vm.counters}, {@code vm.resize}, {@code vm.shutdown}, {@code vm.pause} / {@code vm.resume}.
 */
final class VmEndpoints {
    private VmEndpoints() {
    }

    /** {@code vm.create}: stores the config (CH validates only at boot). */
    static void create(Vm vm, ObjectNode cfg) throws ApiError {
        if (vm.config != null) {
            throw ApiError.of(500, "Error from API", "The VM could not be created", "The VM is already created");
        }
        JsonNode vs = cfg.get("vsock");
        if (vs != null && vs.get("cid").asLong() < 3) {
            throw ApiError.of(400, "Error from API", "The VM could not be created",
                    "vsock.cid: " + vs.get("cid").asLong() + " is reserved (CIDs 0-2), it must be >= 3");
        }
        for (JsonNode net : cfg.path("net")) {
            ((ObjectNode) net).remove("fds"); // CH takes no fds on vm.create and drops the body's numbers
        }
        vm.config = cfg;
        vm.state = "Created";
    }

    /** {@code vm.info}: config, state, memory size and (once booted) the device tree with {@code pci_bdf}. */
    static JsonNode info(Vm vm) throws ApiError {
        vm.requireCreated("The VM info is not available");
        ObjectNode n = Vm.object();
        n.set("config", vm.config.deepCopy());
        n.put("state", vm.state);
        JsonNode mem = vm.config.get("memory");
        long actual = mem.get("size").asLong() + (mem.hasNonNull("hotplugged_size") ? mem.get("hotplugged_size").asLong() : 0);
        n.put("memory_actual_size", actual);
        ObjectNode tree = n.putObject("device_tree");
        if (vm.booted()) {
            for (PciBus.Device d : vm.bus.devices()) {
                String pciId = "_virtio-pci-" + d.id();
                boolean virtio = !d.kind().equals("devices");
                ObjectNode dev = tree.putObject(d.id());
                dev.put("id", d.id());
                dev.putArray("resources");
                if (virtio) {
                    dev.put("parent", pciId);
                    dev.putArray("children");
                    dev.putNull("pci_bdf");
                    ObjectNode pci = tree.putObject(pciId);
                    pci.put("id", pciId);
                    pci.putArray("resources");
                    pci.putNull("parent");
                    pci.putArray("children").add(d.id());
                    pci.put("pci_bdf", d.bdf());
                } else {
                    dev.putNull("parent");
                    dev.putArray("children");
                    dev.put("pci_bdf", d.bdf());
                }
            }
        }
        return n;
    }

    /** {@code vm.counters}: zero counters for each disk. */
    static JsonNode counters(Vm vm) throws ApiError {
        vm.requireBooted("The VM counters could not be retrieved");
        ObjectNode n = Vm.object();
        for (PciBus.Device d : vm.bus.devices()) {
            if (d.kind().equals("disks")) {
                ObjectNode c = n.putObject(d.id());
                c.put("read_bytes", 0).put("read_ops", 0).put("write_bytes", 0).put("write_ops", 0);
            }
        }
        return n;
    }

    /** {@code vm.resize}: {@code desired_vcpus} within 1..max_vcpus, {@code desired_ram} within the hotplug range. */
    static void resize(Vm vm, JsonNode r) throws ApiError {
        String what = "The VM could not be resized";
        vm.requireBooted(what);
        ObjectNode cpus = (ObjectNode) vm.config.get("cpus");
        ObjectNode mem = (ObjectNode) vm.config.get("memory");
        if (r.hasNonNull("desired_vcpus")) {
            long want = r.get("desired_vcpus").asLong();
            if (want < 1 || want > cpus.get("max_vcpus").asLong()) {
                throw ApiError.of(500, "Error from API", what,
                        "desired_vcpus " + want + " outside 1.." + cpus.get("max_vcpus").asLong());
            }
            cpus.put("boot_vcpus", want);
        }
        if (r.hasNonNull("desired_ram")) {
            long want = r.get("desired_ram").asLong();
            long size = mem.get("size").asLong();
            long hotplug = mem.hasNonNull("hotplug_size") ? mem.get("hotplug_size").asLong() : 0;
            if (want < size || want > size + hotplug) {
                throw ApiError.of(500, "Error from API", what, "desired_ram " + want + " outside " + size + ".."
                        + (size + hotplug) + " (memory.size + memory.hotplug_size)");
            }
            mem.put("hotplugged_size", want - size);
        }
    }

    /** {@code vm.shutdown}: only from Running or Paused; the VM's runtime goes, the config stays. */
    static void shutdown(Vm vm) throws ApiError {
        String what = "The VM could not shut down";
        vm.requireCreated(what);
        if (!vm.booted()) {
            throw ApiError.of(500, "Error from API", what, "Invalid VM state transition: " + vm.state + " to Shutdown");
        }
        vm.teardown("vm.shutdown");
        vm.state = "Shutdown";
    }

    /** {@code vm.pause} (Running → Paused) and {@code vm.resume} (Paused → Running). */
    static void pause(Vm vm, boolean pause) throws ApiError {
        String what = pause ? "The VM could not be paused" : "The VM could not resume";
        vm.requireCreated(what);
        String from = pause ? "Running" : "Paused";
        String to = pause ? "Paused" : "Running";
        if (!from.equals(vm.state)) {
            throw ApiError.of(500, "Error from API", what, "Invalid VM state transition: " + vm.state + " to " + to);
        }
        vm.state = to;
    }
}
