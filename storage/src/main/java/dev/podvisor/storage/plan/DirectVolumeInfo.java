package dev.podvisor.storage.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A direct-volume record ({@code <direct-volumes root>/<base64url(volume path)>/mountInfo.json}, Kata
 * pkg/direct-volume/utils.go {@code MountInfo}, kata-types mount.rs {@code DirectVolumeMountInfo}), strictly
 * validated.
 *
 * @param volumeType {@code directvol} (also {@code block}, {@code blk}), {@code spdkvol}/{@code spoolvol}, {@code vfiovol}
 * @param device     host block device, image file, or vhost-user socket
 * @param fstype     filesystem in the guest
 * @param metadata   {@code metadata} map (fsGroup, fsGroupChangePolicy, createFilesystem, encryptionKey...)
 * @param options    {@code options}, as recorded (bind/rbind included)
 */
public record DirectVolumeInfo(
        String volumeType, String device, String fstype, Map<String, String> metadata, List<String> options) {

    private static final Set<String> KEYS = Set.of("volume-type", "device", "fstype", "metadata", "options");

    /**
     * Parses and validates mountInfo.json.
     *
     * @param json       the file's text
     * @param volumePath the volume path the record belongs to (for messages)
     * @throws PlanException naming the key and value: not JSON; key {@code volume_type} (the documented-but-wrong
     *                       spelling, kata-containers#8939); an unknown key; a missing or mistyped key
     */
    public static DirectVolumeInfo parse(String json, String volumePath) {
        String at = "mountInfo.json of direct volume " + volumePath;
        JsonNode root;
        try {
            root = JsonTrees.parse(json);
        } catch (IOException e) {
            throw new PlanException(at + ": not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new PlanException(at + ": not a JSON object");
        }
        for (var e : root.properties()) {
            if (e.getKey().equals("volume_type")) {
                throw new PlanException(at + ": key 'volume_type' is not valid; the key is 'volume-type' (with a dash)");
            }
            if (!KEYS.contains(e.getKey())) {
                throw new PlanException(at + ": key '" + e.getKey() + "': unknown (allowed: volume-type, device, fstype, metadata, options)");
            }
        }
        String type = requiredText(root, "volume-type", at);
        String device = requiredText(root, "device", at);
        JsonNode fs = root.get("fstype");
        if (fs != null && !fs.isNull() && !fs.isTextual()) {
            throw new PlanException(at + ": key 'fstype': not a string (" + fs + ")");
        }
        String fstype = fs == null || fs.isNull() ? "" : fs.asText();
        Map<String, String> metadata = new LinkedHashMap<>();
        JsonNode md = root.get("metadata");
        if (md != null && !md.isNull()) {
            if (!md.isObject()) {
                throw new PlanException(at + ": key 'metadata': not an object of strings (" + md + ")");
            }
            for (var e : md.properties()) {
                if (!e.getValue().isTextual()) {
                    throw new PlanException(at + ": key 'metadata." + e.getKey() + "': not a string (" + e.getValue() + ")");
                }
                metadata.put(e.getKey(), e.getValue().asText());
            }
        }
        List<String> options = new ArrayList<>();
        JsonNode op = root.get("options");
        if (op != null && !op.isNull()) {
            if (!op.isArray()) {
                throw new PlanException(at + ": key 'options': not an array of strings (" + op + ")");
            }
            for (JsonNode o : op) {
                if (!o.isTextual()) {
                    throw new PlanException(at + ": key 'options': element not a string (" + o + ")");
                }
                options.add(o.asText());
            }
        }
        return new DirectVolumeInfo(type, device, fstype, Map.copyOf(metadata), List.copyOf(options));
    }

    private static String requiredText(JsonNode root, String key, String at) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            throw new PlanException(at + ": key '" + key + "': missing");
        }
        if (!n.isTextual() || n.asText().isBlank()) {
            throw new PlanException(at + ": key '" + key + "': not a non-empty string (" + n + ")");
        }
        return n.asText();
    }

    /**
     * How the volume reaches the VM, from {@code volume-type}: {@code directvol}/{@code block}/{@code blk} as
     * virtio-blk, {@code spdkvol}/{@code spoolvol} as vhost-user-blk (Kata runtime-rs direct_volumes/mod.rs).
     *
     * @param volumePath the volume path the record belongs to (for messages)
     * @throws PlanException naming key {@code volume-type}: {@code vfiovol} (not supported yet) or an unknown type
     */
    public DiskAttachment.DiskType diskType(String volumePath) {
        String at = "mountInfo.json of direct volume " + volumePath;
        return switch (volumeType) {
            case "directvol", "block", "blk" -> DiskAttachment.DiskType.VIRTIO_BLK;
            case "spdkvol", "spoolvol" -> DiskAttachment.DiskType.VHOST_USER_BLK;
            case "vfiovol" -> throw new PlanException(at + ": key 'volume-type': 'vfiovol' is not supported yet");
            default -> throw new PlanException(at + ": key 'volume-type': '" + volumeType
                    + "' (allowed: directvol, block, blk, spdkvol, spoolvol)");
        };
    }

    /**
     * The host path of {@code device}: an {@code spdk://} or {@code spool://} prefix removed.
     *
     * @throws PlanException naming key {@code device} when the path is not absolute
     */
    public String hostDevice(String volumePath) {
        String path = deviceFile(device);
        if (!path.startsWith("/")) {
            throw new PlanException("mountInfo.json of direct volume " + volumePath + ": key 'device': '" + device
                    + "' is not an absolute path");
        }
        return path;
    }

    /** A recorded {@code device} without its {@code spdk://} or {@code spool://} prefix. */
    public static String deviceFile(String device) {
        for (String prefix : List.of("spdk://", "spool://")) {
            if (device.startsWith(prefix)) {
                return device.substring(prefix.length());
            }
        }
        return device;
    }

    /** The options for the guest mount: {@code bind} and {@code rbind} dropped (kata-containers#11296). */
    public List<String> guestOptions() {
        return options.stream().filter(o -> !o.equals("bind") && !o.equals("rbind")).toList();
    }
}
