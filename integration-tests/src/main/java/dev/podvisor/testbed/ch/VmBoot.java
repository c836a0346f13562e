package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code vm.boot}: validates the config, checks its files, assigns ids and PCI slots to the boot devices in
 * CH's creation order (console unless {@code Off}, disks, net, rng, fs, pmem, vsock, balloon, watchdog,
 * pvpanic, VFIO devices, user devices, vDPA), binds the hybrid vsock, connects the virtio-fs backends and
 * starts the guest asynchronously ({@link AsyncGuest}): the answer (204) does not wait for the guest, as
 * Cloud Hypervisor's does not wait for the guest kernel. Anything that fails before the answer undoes what
 * boot did and answers the error.
 */
final class VmBoot {
    private VmBoot() {
    }

    /**
     * @param vm the created VM
     * @throws ApiError 404 before create, 500 when already booted or a device cannot be created, 400 on an
     *                  invalid config
     */
    static void boot(Vm vm) throws ApiError {
        String what = "The VM could not boot";
        vm.requireCreated(what);
        if (vm.booted()) {
            throw ApiError.of(500, "Error from API", what, "The VM is already booted");
        }
        VmValidation.validate(vm, what);
        VmValidation.checkFiles(vm, what);
        List<PciBus.Device> planned = planDevices(vm, what);
        try {
            vm.nets.planBoot(vm.arr("net"), what);
            JsonNode vs = vm.config.get("vsock");
            if (vs != null) {
                try {
                    vm.vsock = HybridVsock.listen(Path.of(vs.get("socket").asText()), vm.vmDir.resolve("guest-vsock"),
                            vm.log);
                } catch (IOException e) {
                    throw ApiError.of(500, "Error from API", what, "Cannot create virtio-vsock device", e.getMessage());
                }
            }
            for (JsonNode fs : vm.arr("fs")) {
                vm.fsBackends.put(fs.get("id").asText(), FsBackends.connect(fs, what, vm.options.vhostUserTimeout(),
                        vm.log));
            }
            planned.forEach(vm.bus::add);
            try {
                Files.createDirectories(vm.vmDir.resolve("guest-vsock"));
            } catch (IOException e) {
                throw ApiError.of(500, "Error from API", what, "Cannot start the guest emulator", e.getMessage());
            }
            HybridVsock front = vm.vsock;
            vm.guest = AsyncGuest.start(vm.vmDir, vm.log, vm.options.guestStartTimeout(), bootEvent(vm),
                    vm.nets::guestStarted, () -> {
                        if (front != null) {
                            front.close();
                        }
                    });
            vm.state = "Running";
        } catch (ApiError e) {
            vm.teardown("boot failed");
            throw e;
        }
    }

    /** The {@code boot} control event: the virtio-fs and disk devices and the log file. */
    static Map<String, Object> bootEvent(Vm vm) {
        Map<String, Object> boot = new LinkedHashMap<>();
        boot.put("event", "boot");
        List<Map<String, Object>> fsEv = new ArrayList<>();
        vm.fsBackends.forEach((id, b) -> fsEv.add(ControlEvents.fs(null, id, b)));
        boot.put("fs", fsEv);
        List<Map<String, Object>> disks = new ArrayList<>();
        for (JsonNode disk : vm.arr("disks")) {
            disks.add(ControlEvents.disk(null, vm.bus.get(disk.get("id").asText()), disk));
        }
        boot.put("disks", disks);
        boot.put("log", vm.log.file().toString());
        return boot;
    }

    /** Assigns ids and PCI slots to the boot devices in CH's creation order; writes ids back into the config. */
    private static List<PciBus.Device> planDevices(Vm vm, String what) throws ApiError {
        vm.bus.clear();
        List<PciBus.Device> out = new ArrayList<>();
        if (!"Off".equals(vm.config.get("console").get("mode").asText())) {
            out.add(new PciBus.Device("__console", "console", 0, vm.bus.takeSlot(0, what)));
        }
        planList(vm, "disks", "_disk", out, what);
        planList(vm, "net", "_net", out, what);
        out.add(new PciBus.Device("__rng", "rng", 0, vm.bus.takeSlot(0, what)));
        planList(vm, "fs", "_fs", out, what);
        planList(vm, "pmem", "_pmem", out, what);
        JsonNode vs = vm.config.get("vsock");
        if (vs != null) {
            String id = vs.hasNonNull("id") ? vs.get("id").asText() : vm.nextId("_vsock");
            ((ObjectNode) vs).put("id", id);
            int seg = vs.get("pci_segment").asInt();
            out.add(new PciBus.Device(id, "vsock", seg, vm.bus.takeSlot(seg, what)));
        }
        if (vm.config.get("balloon") != null) {
            out.add(new PciBus.Device("__balloon", "balloon", 0, vm.bus.takeSlot(0, what)));
        }
        if (vm.config.get("watchdog").asBoolean()) {
            out.add(new PciBus.Device("__watchdog", "watchdog", 0, vm.bus.takeSlot(0, what)));
        }
        if (vm.config.get("pvpanic").asBoolean()) {
            out.add(new PciBus.Device("__pvpanic", "pvpanic", 0, vm.bus.takeSlot(0, what)));
        }
        planList(vm, "devices", "_vfio", out, what);
        planList(vm, "user_devices", "_vfio_user", out, what);
        planList(vm, "vdpa", "_vdpa", out, what);
        return out;
    }

    private static void planList(Vm vm, String list, String prefix, List<PciBus.Device> out, String what)
            throws ApiError {
        for (JsonNode d : vm.arr(list)) {
            String id = d.hasNonNull("id") ? d.get("id").asText() : vm.nextId(prefix);
            ((ObjectNode) d).put("id", id);
            int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
            out.add(new PciBus.Device(id, list, seg, vm.bus.takeSlot(seg, what)));
        }
    }
}
