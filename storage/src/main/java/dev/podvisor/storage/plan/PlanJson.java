package dev.podvisor.storage.plan;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.spec.OciMount;
import java.util.List;

/**
 * A plan as JSON for machines ({@code podvisor plan --json}, the shim log). The shape, stable:
 *
 * <pre>
 * {"sandboxId": "...", "containerId": "...",
 *  "rootfs": {"kind": "virtio-fs|virtio-blk", "hostMount": bool, "guestPath": "...", "device": "...", "hostPath": "...",
 *             "rule": "...", "reason": "..."},
 *  "mounts": [{"destination", "source", "kind", "device", "sizeBytes", "readOnly", "rule", "reason", "guestPath",
 *              "scope": "pod|container"}],
 *  "virtioFsDevices": [{"name", "args": [...], "guestMountPoint"}],
 *  "disks": [{"id", "hostPath", "readOnly", "type": "virtio-blk|vhost-user-blk", "scope"}],
 *  "hostActions": [{"action": "rootfs-host-mount|share-bind|share-mount-point|create-sparse-file", ...}] (a share-bind
 *                 has a "scope"),
 *  "storages": [Storage...], "sandboxStorages": [Storage...],
 *  "guestMounts": [{"destination", "type", "source", "options"}], "guestRootPath": "..."}
 * </pre>
 *
 * where a Storage is {@code {"driver", "driverOptions", "source", "fstype", "options", "mountPoint", "fsGroup":
 * {"groupId", "onRootMismatch"}|null, "shared", "scope", "sizeBytes", "diskId"|null}}: {@code shared} is the agent's
 * {@code Storage.shared}, true exactly for a pod-scoped storage ({@code "scope": "pod"}, see {@link StorageScope}).
 */
public final class PlanJson {


    private PlanJson() {
    }

    /** The plan as a JSON tree. */
    public static ObjectNode toTree(StoragePlan plan) {
        ObjectNode root = JsonTrees.NODES.objectNode();
        root.put("sandboxId", plan.sandboxId());
        root.put("containerId", plan.containerId());
        RootfsDecision r = plan.rootfs();
        ObjectNode rootfs = root.putObject("rootfs");
        rootfs.put("kind", r.kind().wireName());
        rootfs.put("hostMount", r.hostMount());
        rootfs.put("guestPath", r.guestPath());
        rootfs.put("device", r.device());
        rootfs.put("hostPath", r.hostPath());
        rootfs.put("rule", r.rule());
        rootfs.put("reason", r.reason());
        ArrayNode mounts = root.putArray("mounts");
        for (MountDecision d : plan.mounts()) {
            ObjectNode m = mounts.addObject();
            m.put("destination", d.destination());
            m.put("source", d.source());
            m.put("kind", d.kind().wireName());
            m.put("device", d.device());
            m.put("sizeBytes", d.sizeBytes());
            m.put("readOnly", d.readOnly());
            m.put("rule", d.rule());
            m.put("reason", d.reason());
            m.put("guestPath", d.guestPath());
            m.put("scope", d.scope().wireName());
        }
        ArrayNode devices = root.putArray("virtioFsDevices");
        for (VirtioFsDevice v : plan.virtioFsDevices()) {
            ObjectNode o = devices.addObject();
            o.put("name", v.name());
            strings(o.putArray("args"), v.virtiofsArgs());
            o.put("guestMountPoint", v.guestMountPoint());
        }
        ArrayNode disks = root.putArray("disks");
        for (DiskAttachment d : plan.disks()) {
            ObjectNode o = disks.addObject();
            o.put("id", d.id());
            o.put("hostPath", d.hostPath());
            o.put("readOnly", d.readOnly());
            o.put("type", d.type() == DiskAttachment.DiskType.VIRTIO_BLK ? "virtio-blk" : "vhost-user-blk");
            o.put("scope", d.scope().wireName());
        }
        ArrayNode actions = root.putArray("hostActions");
        for (HostAction a : plan.hostActions()) {
            ObjectNode o = actions.addObject();
            switch (a) {
                case HostAction.RootfsHostMount m -> {
                    o.put("action", "rootfs-host-mount");
                    o.put("target", m.target());
                    ArrayNode ms = o.putArray("mounts");
                    for (RootfsMount rm : m.mounts()) {
                        ObjectNode x = ms.addObject();
                        x.put("type", rm.type());
                        x.put("source", rm.source());
                        strings(x.putArray("options"), rm.options());
                    }
                }
                case HostAction.ShareBind s -> {
                    o.put("action", "share-bind");
                    o.put("device", s.device());
                    o.put("shareName", s.shareName());
                    o.put("source", s.source());
                    o.put("readOnly", s.readOnly());
                    o.put("directory", s.directory());
                    o.put("scope", s.scope().wireName());
                }
                case HostAction.ShareMountPoint s -> {
                    o.put("action", "share-mount-point");
                    o.put("device", s.device());
                    o.put("shareName", s.shareName());
                }
                case HostAction.CreateSparseFile f -> {
                    o.put("action", "create-sparse-file");
                    o.put("path", f.path());
                    o.put("sizeBytes", f.sizeBytes());
                }
            }
        }
        storages(root.putArray("storages"), plan.storages());
        storages(root.putArray("sandboxStorages"), plan.sandboxStorages());
        ArrayNode gm = root.putArray("guestMounts");
        for (OciMount m : plan.guestMounts()) {
            ObjectNode o = gm.addObject();
            o.put("destination", m.destination());
            o.put("type", m.type());
            o.put("source", m.source());
            strings(o.putArray("options"), m.options());
        }
        root.put("guestRootPath", plan.guestRootPath());
        return root;
    }

    /** The plan as JSON text; {@code pretty} indents it. */
    public static String toJson(StoragePlan plan, boolean pretty) {
        return JsonTrees.toString(toTree(plan), pretty);
    }

    private static void storages(ArrayNode out, List<GuestStorage> storages) {
        for (GuestStorage s : storages) {
            ObjectNode o = out.addObject();
            o.put("driver", s.driver());
            strings(o.putArray("driverOptions"), s.driverOptions());
            o.put("source", s.source());
            o.put("fstype", s.fstype());
            strings(o.putArray("options"), s.options());
            o.put("mountPoint", s.mountPoint());
            if (s.fsGroup() == null) {
                o.putNull("fsGroup");
            } else {
                ObjectNode g = o.putObject("fsGroup");
                g.put("groupId", s.fsGroup().groupId());
                g.put("onRootMismatch", s.fsGroup().onRootMismatch());
            }
            o.put("shared", s.shared());
            o.put("scope", (s.shared() ? StorageScope.POD : StorageScope.CONTAINER).wireName());
            o.put("sizeBytes", s.sizeBytes());
            if (s.diskId() == null) {
                o.putNull("diskId");
            } else {
                o.put("diskId", s.diskId());
            }
        }
    }

    private static void strings(ArrayNode out, List<String> values) {
        values.forEach(out::add);
    }
}
