package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.sandbox.network.HostNetwork;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.json.TreeFields;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON form of a {@link SandboxState} ({@code sandbox.json}), the one databind wrote before with
 * {@code @JsonInclude(NON_NULL)}, so a {@code delete} of one build reads what another build's daemon left:
 * <pre>{@code
 * {"sandboxId": "sb", "vmDir": "/run/.../sb", "shareRoot": "/run/.../shared/sb", "vmmPid": 1234,
 *  "virtiofsdPids": [1235],
 *  "containers": {"c1": {"bundle": "/run/containerd/.../c1", "hostSetup": {ExecutionRecord}}},
 *  "podSetup": {ExecutionRecord},
 *  "cgroups": ["/sys/fs/cgroup/..."],
 *  "network": {HostNetwork}}
 * }</pre>
 * Keys in that order. {@code hostSetup}, {@code podSetup} and {@code network} are left out when null;
 * {@code cgroups} is always written (possibly {@code []}). Reading: the first six keys and each container's
 * {@code bundle} are required, {@code hostSetup}, {@code podSetup}, {@code cgroups} and {@code network} may be
 * absent (files of builds before them) or null; key order does not matter and unknown keys are ignored. The
 * setup records stay JSON trees here: {@link SandboxCleanup} and {@link ContainerStorage} decode them when they
 * undo them.
 */
final class SandboxStateJson {

    private SandboxStateJson() {
    }

    static ObjectNode write(SandboxState state) {
        ObjectNode tree = JsonTrees.NODES.objectNode()
                .put("sandboxId", state.sandboxId())
                .put("vmDir", state.vmDir())
                .put("shareRoot", state.shareRoot())
                .put("vmmPid", state.vmmPid());
        ArrayNode pids = tree.putArray("virtiofsdPids");
        state.virtiofsdPids().forEach(pids::add);
        ObjectNode containers = tree.putObject("containers");
        state.containers().forEach((id, container) -> {
            ObjectNode entry = containers.putObject(id).put("bundle", container.bundle());
            if (container.hostSetup() != null) {
                entry.set("hostSetup", container.hostSetup());
            }
        });
        if (state.podSetup() != null) {
            tree.set("podSetup", state.podSetup());
        }
        ArrayNode cgroups = tree.putArray("cgroups");
        state.cgroups().forEach(cgroups::add);
        if (state.network() != null) {
            tree.set("network", state.network().toJson());
        }
        return tree;
    }

    static SandboxState read(JsonNode tree) throws TreeFields.ShapeException {
        TreeFields fields = TreeFields.of(tree, "");
        List<Long> pids = new ArrayList<>();
        JsonNode pidArray = fields.array("virtiofsdPids");
        for (int i = 0; i < pidArray.size(); i++) {
            pids.add(TreeFields.integer(pidArray.get(i), "virtiofsdPids[" + i + "]"));
        }
        Map<String, SandboxState.ContainerState> containers = new LinkedHashMap<>();
        TreeFields containerFields = fields.object("containers");
        for (Map.Entry<String, JsonNode> entry : containerFields.properties()) {
            TreeFields container = TreeFields.of(entry.getValue(), containerFields.where(entry.getKey()));
            containers.put(entry.getKey(),
                    new SandboxState.ContainerState(container.text("bundle"), container.optional("hostSetup")));
        }
        List<String> cgroups = new ArrayList<>();
        JsonNode cgroupArray = fields.optional("cgroups");
        if (cgroupArray != null) {
            if (!cgroupArray.isArray()) {
                throw fields.bad("cgroups", "expected an array");
            }
            for (int i = 0; i < cgroupArray.size(); i++) {
                cgroups.add(TreeFields.text(cgroupArray.get(i), "cgroups[" + i + "]"));
            }
        }
        JsonNode network = fields.optional("network");
        return new SandboxState(fields.text("sandboxId"), fields.text("vmDir"), fields.text("shareRoot"),
                fields.integer("vmmPid"), pids, containers, fields.optional("podSetup"), cgroups,
                network == null ? null : HostNetwork.fromJson(network, "network"));
    }
}
