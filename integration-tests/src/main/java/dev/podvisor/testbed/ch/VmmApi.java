package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.linux.Linux;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Routes one API request to the VM under the VMM lock (one request at a time, as CH's single VMM thread
 * serves them) and turns the outcome into CH's answer: 204 without a body, 200 with JSON, otherwise the
 * status of the {@link ApiError} with its chain as a JSON array of strings (a bare 400 for a wrong method).
 * Only PUT and GET are routed (other methods: 400 without body); unknown paths are 404 {@code ["Not Found"]}.
 */
final class VmmApi {
    static final String ROOT = "/api/v1/";

    private static final Set<String> UNSUPPORTED = Set.of("vm.add-vsock", "vm.add-vdpa",
            "vm.add-user-device", "vm.add-generic-vhost-user", "vm.snapshot", "vm.restore", "vm.coredump",
            "vm.send-migration", "vm.receive-migration", "vm.reboot", "vm.nmi", "vm.resize-zone",
            "vm.resize-disk", "vm.power-button");

    private final Vm vm;
    private final ReentrantLock lock = new ReentrantLock();

    VmmApi(Vm vm) {
        this.vm = vm;
    }

    /**
     * @param method HTTP method
     * @param path   request path, e.g. {@code /api/v1/vm.info}
     * @param body   request body (may be empty or null)
     * @param fds    the fds that came with the request ({@code SCM_RIGHTS}); owned from here on: only
     *               {@code vm.add-net} keeps them, every other endpoint (vm.create included, as in CH) closes them
     * @return status and JSON body
     */
    CloudHypervisorStandIn.Response handle(String method, String path, byte[] body, int[] fds) {
        int[][] pending = {fds};
        try {
            return handle(method, path, body, pending);
        } finally {
            for (int fd : pending[0]) {
                Linux.closeQuietly(fd); // fds the endpoint did not take (CH ignores fds on every other endpoint)
            }
        }
    }

    private CloudHypervisorStandIn.Response handle(String method, String path, byte[] body, int[][] fds) {
        if (!path.startsWith(ROOT)) {
            return new CloudHypervisorStandIn.Response(404, errorBody(List.of("Not Found")));
        }
        String endpoint = path.substring(ROOT.length());
        if (!method.equals("PUT") && !method.equals("GET")) {
            return new CloudHypervisorStandIn.Response(400, null);
        }
        lock.lock();
        try {
            JsonNode result = route(method.equals("PUT"), endpoint, body == null ? new byte[0] : body, fds);
            return result == null ? new CloudHypervisorStandIn.Response(204, null)
                    : new CloudHypervisorStandIn.Response(200, Vm.JSON.writeValueAsString(result));
        } catch (ApiError e) {
            return new CloudHypervisorStandIn.Response(e.status(),
                    e.status() == 400 && e.chain().isEmpty() ? null : errorBody(e.chain()));
        } catch (RuntimeException | JsonProcessingException e) {
            return new CloudHypervisorStandIn.Response(500, errorBody(List.of("Internal Server Error", String.valueOf(e))));
        } finally {
            lock.unlock();
        }
    }

    /** Tears the VM down under the lock (the stand-in exits). */
    void teardown(String why) {
        lock.lock();
        try {
            vm.teardown(why);
        } finally {
            lock.unlock();
        }
    }

    private JsonNode route(boolean put, String endpoint, byte[] body, int[][] fds) throws ApiError {
        switch (endpoint) {
            case "vmm.ping" -> {
                requireMethod(!put);
                ObjectNode n = Vm.object();
                n.put("build_version", CloudHypervisorStandIn.VERSION);
                n.put("version", "53.0.0");
                n.put("pid", ProcessHandle.current().pid());
                n.putArray("features").add("kvm");
                return n;
            }
            case "vmm.shutdown", "vm.delete" -> {
                requireMethod(put);
                vm.teardown(endpoint);
                vm.forget();
                return null;
            }
            case "vm.create" -> {
                requireMethod(put);
                VmEndpoints.create(vm, (ObjectNode) parseBody(body, ChSchema.VM_CONFIG));
                return null;
            }
            case "vm.info" -> {
                requireMethod(!put);
                return VmEndpoints.info(vm);
            }
            case "vm.counters" -> {
                requireMethod(!put);
                return VmEndpoints.counters(vm);
            }
            case "vm.boot" -> {
                requireMethod(put);
                VmBoot.boot(vm);
                return null;
            }
            case "vm.shutdown" -> {
                requireMethod(put);
                VmEndpoints.shutdown(vm);
                return null;
            }
            case "vm.pause", "vm.resume" -> {
                requireMethod(put);
                VmEndpoints.pause(vm, endpoint.equals("vm.pause"));
                return null;
            }
            case "vm.resize" -> {
                requireMethod(put);
                VmEndpoints.resize(vm, parseBody(body, ChSchema.VM_RESIZE));
                return null;
            }
            case "vm.add-disk" -> {
                return add(put, "disks", ChSchema.DISK, body, "The disk could not be added to the VM");
            }
            case "vm.add-fs" -> {
                return add(put, "fs", ChSchema.FS, body, "The fs could not be added to the VM");
            }
            case "vm.add-pmem" -> {
                return add(put, "pmem", ChSchema.PMEM, body, "The pmem device could not be added to the VM");
            }
            case "vm.add-net" -> {
                requireMethod(put);
                ObjectNode cfg = (ObjectNode) parseBody(body, ChSchema.NET);
                int[] taken = fds[0];
                fds[0] = new int[0];
                return HotPlug.addNet(vm, cfg, taken, "The network device could not be added to the VM");
            }
            case "vm.add-device" -> {
                return add(put, "devices", ChSchema.DEVICE, body, "The device could not be added to the VM");
            }
            case "vm.remove-device" -> {
                requireMethod(put);
                HotPlug.remove(vm, parseBody(body, ChSchema.VM_REMOVE_DEVICE).get("id").asText());
                return null;
            }
            default -> {
                if (UNSUPPORTED.contains(endpoint)) {
                    requireMethod(put);
                    throw ApiError.of(500, "Error from API", endpoint + " is not supported by the testbed");
                }
                throw new ApiError(404, List.of("Not Found"));
            }
        }
    }

    private JsonNode add(boolean put, String list, ChSchema.Struct schema, byte[] body, String what) throws ApiError {
        requireMethod(put);
        return HotPlug.add(vm, list, (ObjectNode) parseBody(body, schema), what);
    }

    private static void requireMethod(boolean ok) throws ApiError {
        if (!ok) {
            throw ApiError.of(400, "Bad Request");
        }
    }

    static JsonNode parseBody(byte[] body, ChSchema.Type type) throws ApiError {
        if (body.length == 0) {
            throw ApiError.of(400, "Bad Request", "missing request body");
        }
        JsonNode tree;
        try {
            tree = Vm.JSON.readTree(body);
        } catch (IOException e) {
            throw ApiError.of(400, "Failed to deserialize JSON", firstLine(e.getMessage()));
        }
        try {
            return ChSchema.check(type, tree);
        } catch (ChSchema.SchemaException e) {
            throw ApiError.of(400, "Failed to deserialize JSON", e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** @param chain error messages @return the JSON array CH sends as an error body */
    static String errorBody(List<String> chain) {
        try {
            return Vm.JSON.writeValueAsString(chain);
        } catch (JsonProcessingException e) {
            return "[\"error\"]";
        }
    }
}
