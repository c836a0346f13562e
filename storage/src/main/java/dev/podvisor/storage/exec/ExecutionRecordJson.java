package dev.podvisor.storage.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.exec.ExecutionRecord.Step;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.json.TreeFields;

import java.util.ArrayList;
import java.util.List;

/**
 * The JSON form of an {@link ExecutionRecord}, the one databind's {@code @JsonTypeInfo(use = NAME, property =
 * "step")} wrote before (so records persisted by earlier builds read, and theirs read ours):
 * <pre>{@code
 * {"sandboxId": "sb", "containerId": "c1", "steps": [
 *   {"step": "rootfs-mounted", "target": "/run/.../rootfs"},
 *   {"step": "share-acquired", "device": "kataShared", "shareName": "...", "source": "...",
 *    "readOnly": true, "directory": false, "pod": false},
 *   {"step": "mount-point-created", "device": "kataShared", "shareName": "..."},
 *   {"step": "sparse-file-created", "path": "...", "created": true},
 *   {"step": "disk-attached", "planDiskId": "d0", "hostPath": "...", "readOnly": false, "deviceId": "_disk0",
 *    "pciPath": "02/00", "pod": false}]}
 * }</pre>
 * Keys in that order; a null string is written as JSON {@code null} (every key is always there) and read back as
 * null; every key is required when reading, unknown keys are ignored.
 */
final class ExecutionRecordJson {

    private ExecutionRecordJson() {
    }

    static ObjectNode write(ExecutionRecord record) {
        ObjectNode tree = JsonTrees.NODES.objectNode();
        tree.put("sandboxId", record.sandboxId());
        tree.put("containerId", record.containerId());
        ArrayNode steps = tree.putArray("steps");
        record.steps().forEach(step -> steps.add(write(step)));
        return tree;
    }

    private static ObjectNode write(Step step) {
        ObjectNode tree = JsonTrees.NODES.objectNode();
        switch (step) {
            case Step.RootfsMounted s -> tree.put("step", "rootfs-mounted").put("target", s.target());
            case Step.ShareAcquired s -> tree.put("step", "share-acquired").put("device", s.device())
                    .put("shareName", s.shareName()).put("source", s.source()).put("readOnly", s.readOnly())
                    .put("directory", s.directory()).put("pod", s.pod());
            case Step.MountPointCreated s -> tree.put("step", "mount-point-created").put("device", s.device())
                    .put("shareName", s.shareName());
            case Step.SparseFileCreated s -> tree.put("step", "sparse-file-created").put("path", s.path())
                    .put("created", s.created());
            case Step.DiskAttached s -> tree.put("step", "disk-attached").put("planDiskId", s.planDiskId())
                    .put("hostPath", s.hostPath()).put("readOnly", s.readOnly()).put("deviceId", s.deviceId())
                    .put("pciPath", s.pciPath()).put("pod", s.pod());
        }
        return tree;
    }

    static ExecutionRecord read(JsonNode tree) throws TreeFields.ShapeException {
        TreeFields record = TreeFields.of(tree, "");
        JsonNode steps = record.array("steps");
        List<Step> read = new ArrayList<>(steps.size());
        for (int i = 0; i < steps.size(); i++) {
            read.add(step(TreeFields.of(steps.get(i), record.where("steps") + "[" + i + "]")));
        }
        return new ExecutionRecord(record.nullableText("sandboxId"), record.nullableText("containerId"), read);
    }

    private static Step step(TreeFields f) throws TreeFields.ShapeException {
        return switch (f.text("step")) {
            case "rootfs-mounted" -> new Step.RootfsMounted(f.nullableText("target"));
            case "share-acquired" -> new Step.ShareAcquired(f.nullableText("device"), f.nullableText("shareName"),
                    f.nullableText("source"), f.bool("readOnly"), f.bool("directory"), f.bool("pod"));
            case "mount-point-created" -> new Step.MountPointCreated(f.nullableText("device"),
                    f.nullableText("shareName"));
            case "sparse-file-created" -> new Step.SparseFileCreated(f.nullableText("path"), f.bool("created"));
            case "disk-attached" -> new Step.DiskAttached(f.nullableText("planDiskId"), f.nullableText("hostPath"),
                    f.bool("readOnly"), f.nullableText("deviceId"), f.nullableText("pciPath"), f.bool("pod"));
            default -> throw f.bad("step", "unknown step name (known: rootfs-mounted, share-acquired, "
                    + "mount-point-created, sparse-file-created, disk-attached)");
        };
    }
}
