package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Iterator;

/**
 * {@code vm.add-disk}, {@code vm.add-fs}, {@code vm.add-pmem}, {@code vm.add-net}, {@code vm.add-device} and
 * {@code vm.remove-device}. Before boot a device is only added to (or removed from) the config and the answer
 * is 204; after boot it takes the lowest free slot of its segment, the guest hears of it, and the answer is
 * 200 {@code {"id":...,"bdf":...}} (CH's {@code PciDeviceInfo}).
 */
final class HotPlug {
    private HotPlug() {
    }

    /**
     * @param vm     the VM
     * @param list   the VmConfig list ({@code disks}, {@code fs}, {@code pmem}, {@code net}, {@code devices})
     * @param d      the request body, already checked against the schema
     * @param what   outer error message
     * @return the {@code PciDeviceInfo} after boot, null (204) before
     * @throws ApiError 404 before create, 409 on a duplicate id, 400 on an invalid device, 500 on I/O failure
     */
    static JsonNode add(Vm vm, String list, ObjectNode d, String what) throws ApiError {
        return add(vm, list, d, what, null);
    }

    /**
     * {@code vm.add-net}: 404 before create, then CH's NetConfig validation and the tap inspection
     * ({@link NetDevices#accept}); before boot the tap fds stay with the config entry (204), after boot the
     * guest NIC is made at once (200 with {@code id}/{@code bdf}). The fds are closed on every error.
     *
     * @param fds the fds that came with the request (owned from here on)
     */
    static JsonNode addNet(Vm vm, ObjectNode d, int[] fds, String what) throws ApiError {
        try {
            vm.requireCreated(what);
        } catch (ApiError e) {
            for (int fd : fds) {
                dev.podvisor.storage.linux.Linux.closeQuietly(fd);
            }
            throw e;
        }
        HostTap tap = vm.nets.accept(d, fds, vm.config.get("cpus").get("boot_vcpus").asLong(), what);
        try {
            return add(vm, "net", d, what, tap);
        } catch (ApiError | RuntimeException e) {
            tap.close();
            throw e;
        }
    }

    private static JsonNode add(Vm vm, String list, ObjectNode d, String what, HostTap tap) throws ApiError {
        vm.requireCreated(what);
        int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
        VmValidation.checkSegment(d, list, VmValidation.numSegments(vm.config), what);
        if (d.hasNonNull("id") && (vm.bus.has(d.get("id").asText()) || vm.configHasId(d.get("id").asText()))) {
            throw ApiError.of(409, "Error from API", what, "Identifier " + d.get("id").asText() + " is not unique");
        }
        if (list.equals("fs") || (list.equals("disks") && d.get("vhost_user").asBoolean())) {
            JsonNode mem = vm.config.get("memory");
            if (!mem.get("shared").asBoolean() && !mem.get("hugepages").asBoolean()) {
                throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                        "Using vhost-user requires using shared memory or huge pages (memory.shared is false)");
            }
        }
        if (list.equals("disks") && !d.get("vhost_user").asBoolean() && !d.hasNonNull("path")) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    "disks: path is required unless vhost_user is set");
        }
        if (!vm.booted()) {
            vm.list(list).add(d);
            if (tap != null) {
                vm.nets.addCold(d, tap);
            }
            return null;
        }
        String pathField = switch (list) {
            case "pmem" -> "file";
            case "fs", "net" -> null;
            default -> "path";
        };
        if (pathField != null && d.hasNonNull(pathField)) {
            String kind = list.equals("disks") ? "disk path" : list.equals("pmem") ? "pmem file" : "device path";
            VmValidation.requireFile(d.get(pathField).asText(), kind, what);
        }
        String prefix = switch (list) {
            case "disks" -> "_disk";
            case "fs" -> "_fs";
            case "pmem" -> "_pmem";
            case "net" -> "_net";
            default -> "_vfio";
        };
        String id = d.hasNonNull("id") ? d.get("id").asText() : vm.nextId(prefix);
        d.put("id", id);
        FsBackends.FsBackend backend = list.equals("fs")
                ? FsBackends.connect(d, what, vm.options.vhostUserTimeout(), vm.log) : null;
        int slot;
        try {
            slot = vm.bus.takeSlot(seg, what);
        } catch (ApiError e) {
            if (backend != null) {
                backend.close();
            }
            throw e;
        }
        PciBus.Device dev = new PciBus.Device(id, list, seg, slot);
        if (tap != null) {
            try {
                vm.nets.hotAdd(id, d, tap, what);
            } catch (ApiError e) {
                vm.bus.release(seg, slot);
                throw e;
            }
        }
        vm.bus.add(dev);
        vm.list(list).add(d);
        if (backend != null) {
            vm.fsBackends.put(id, backend);
            vm.sendToGuest(ControlEvents.fs("add-fs", id, backend));
        } else if (list.equals("disks")) {
            vm.sendToGuest(ControlEvents.disk("add-disk", dev, d));
        }
        return deviceInfo(dev);
    }

    /** @return CH's {@code PciDeviceInfo} {@code {"id":...,"bdf":...}} */
    static ObjectNode deviceInfo(PciBus.Device dev) {
        ObjectNode info = Vm.object();
        info.put("id", dev.id());
        info.put("bdf", dev.bdf());
        return info;
    }

    /**
     * {@code vm.remove-device}: after boot the device leaves the bus (its slot is freed, a virtio-fs backend
     * is disconnected, the guest hears {@code remove-device}); before boot the config entry goes.
     *
     * @param vm the VM
     * @param id the device id
     * @throws ApiError 404 before create or for an unknown id, with CH's texts: after boot
     *                  {@code Failed to find device corresponding to the given identifier: <id>}, before boot
     *                  {@code No device with id "<id>" to remove}
     */
    static void remove(Vm vm, String id) throws ApiError {
        String what = "The device could not be removed from the VM";
        vm.requireCreated(what);
        boolean booted = vm.booted();
        PciBus.Device dev = booted ? vm.bus.get(id) : null;
        if (booted && (dev == null || dev.id().startsWith("__"))) {
            // CH HEAD (post-v53) device_manager.rs remove_device: UnknownDeviceId, mapped to 404 (v53.0: 500)
            throw ApiError.of(404, "Error from API", what, "Error from device manager",
                    "Failed to find device corresponding to the given identifier: " + id);
        }
        boolean removed = false;
        for (String list : Vm.DEVICE_LISTS) {
            if (vm.config.get(list) instanceof ArrayNode arr) {
                for (Iterator<JsonNode> it = arr.iterator(); it.hasNext(); ) {
                    JsonNode d = it.next();
                    if (d.hasNonNull("id") && d.get("id").asText().equals(id)) {
                        it.remove();
                        removed = true;
                        vm.nets.dropCold(d);
                    }
                }
            }
        }
        if (!booted) {
            if (!removed) {
                // CH lib.rs vm_remove_device before boot: VmError::NoDeviceToRemove ({0:?}: the id quoted)
                throw ApiError.of(404, "Error from API", what, "No device with id \"" + id + "\" to remove");
            }
            return;
        }
        vm.bus.remove(id);
        vm.nets.remove(id);
        FsBackends.FsBackend b = vm.fsBackends.remove(id);
        if (b != null) {
            b.close();
        }
        vm.sendToGuest(ControlEvents.removeDevice(id));
    }
}
