package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The semantic checks Cloud Hypervisor makes at {@code vm.boot} that matter to Kata ({@code VmConfig::validate},
 * all answered 400 "Error validating VM configuration") and the file checks of device creation (500 "Cannot
 * open ...", {@code No such file or directory (os error 2)}).
 */
final class VmValidation {
    private VmValidation() {
    }

    private static ApiError invalid(String what, String detail) {
        return ApiError.of(400, "Error from API", what, "Error validating VM configuration", detail);
    }

    /**
     * @param vm   the VM whose config is checked
     * @param what outer error message
     * @throws ApiError 400 on the first rule broken
     */
    static void validate(Vm vm, String what) throws ApiError {
        JsonNode cfg = vm.config;
        JsonNode payload = cfg.get("payload");
        if (!payload.hasNonNull("kernel") && !payload.hasNonNull("firmware") && !payload.hasNonNull("igvm")) {
            throw invalid(what, "payload: no kernel, firmware or igvm specified");
        }
        JsonNode cpus = cfg.get("cpus");
        if (cpus.get("boot_vcpus").asLong() == 0 || cpus.get("boot_vcpus").asLong() > cpus.get("max_vcpus").asLong()) {
            throw invalid(what, "cpus: boot_vcpus " + cpus.get("boot_vcpus") + " must be 1..max_vcpus ("
                    + cpus.get("max_vcpus") + ")");
        }
        JsonNode topo = cpus.get("topology");
        if (topo != null) {
            long product = 1;
            for (String part : List.of("threads_per_core", "cores_per_die", "dies_per_package", "packages")) {
                long v = topo.get(part).asLong();
                if (v == 0) {
                    throw invalid(what, "cpus.topology." + part + " is 0");
                }
                product *= v;
            }
            if (product != cpus.get("max_vcpus").asLong()) {
                throw invalid(what, "cpus.topology: threads_per_core * cores_per_die * dies_per_package * packages = "
                        + product + " but max_vcpus is " + cpus.get("max_vcpus").asLong());
            }
        }
        boolean shared = cfg.get("memory").get("shared").asBoolean() || cfg.get("memory").get("hugepages").asBoolean();
        boolean vhostUser = vm.arr("fs").size() > 0;
        for (JsonNode d : vm.arr("disks")) {
            vhostUser |= d.get("vhost_user").asBoolean();
        }
        if (vhostUser && !shared) {
            throw invalid(what, "Using vhost-user requires using shared memory or huge pages (memory.shared is false)");
        }
        int segments = numSegments(cfg);
        Set<String> ids = new HashSet<>();
        for (String list : Vm.DEVICE_LISTS) {
            for (JsonNode d : vm.arr(list)) {
                checkSegment(d, list, segments, what);
                if (d.hasNonNull("id") && !ids.add(d.get("id").asText())) {
                    throw invalid(what, "Identifier " + d.get("id").asText() + " is not unique");
                }
            }
        }
        JsonNode vs = cfg.get("vsock");
        if (vs != null) {
            checkSegment(vs, "vsock", segments, what);
        }
        for (JsonNode d : vm.arr("disks")) {
            if (!d.get("vhost_user").asBoolean() && !d.hasNonNull("path")) {
                throw invalid(what, "disks: path is required unless vhost_user is set");
            }
        }
    }

    /** @param cfg a VmConfig @return {@code platform.num_pci_segments}, 1 by default */
    static int numSegments(JsonNode cfg) {
        JsonNode p = cfg.get("platform");
        return p != null && p.hasNonNull("num_pci_segments") ? p.get("num_pci_segments").asInt() : 1;
    }

    /** @throws ApiError 400 when the device's {@code pci_segment} is not below {@code num_pci_segments} */
    static void checkSegment(JsonNode d, String list, int segments, String what) throws ApiError {
        int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
        if (seg >= segments) {
            throw invalid(what, list + ": pci_segment " + seg + " is not below platform.num_pci_segments ("
                    + segments + ")");
        }
    }

    /** @throws ApiError 500 "Cannot open ..." for a payload, disk or pmem file that does not exist */
    static void checkFiles(Vm vm, String what) throws ApiError {
        JsonNode payload = vm.config.get("payload");
        for (String f : List.of("kernel", "firmware", "initramfs", "igvm")) {
            if (payload.hasNonNull(f)) {
                requireFile(payload.get(f).asText(), f + " file", what);
            }
        }
        for (JsonNode d : vm.arr("disks")) {
            if (d.hasNonNull("path")) {
                requireFile(d.get("path").asText(), "disk path", what);
            }
        }
        for (JsonNode d : vm.arr("pmem")) {
            requireFile(d.get("file").asText(), "pmem file", what);
        }
    }

    /** @throws ApiError 500 "Cannot open {@code kind} {@code path}" when the file does not exist */
    static void requireFile(String path, String kind, String what) throws ApiError {
        if (!Files.exists(Path.of(path))) {
            throw ApiError.of(500, "Error from API", what, "Cannot open " + kind + " " + path,
                    "No such file or directory (os error 2)");
        }
    }
}
