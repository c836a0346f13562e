package dev.podvisor.testbed.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * One JSON line on the guest control socket, sent by the cloud-hypervisor stand-in (see the testbed
 * contract in docs/architecture.md). These are the only device facts the guest learns.
 */
sealed interface ControlEvent {

    /** {@code {"event":"boot","fs":[...],"disks":[...],"log":"<vm dir>/testbed.jsonl"}}. */
    record Boot(List<Devices.Fs> fs, List<Devices.Disk> disks, String log) implements ControlEvent {
    }

    /** {@code {"event":"add-disk","id":…,"bdf":…,"path":…,"readonly":…}}. */
    record AddDisk(Devices.Disk disk) implements ControlEvent {
    }

    /** {@code {"event":"add-fs","id":…,"tag":…,"sharedDir":…}} ({@code id} optional). */
    record AddFs(Devices.Fs fs) implements ControlEvent {
    }

    /** {@code {"event":"remove-device","id":…}}. */
    record RemoveDevice(String id) implements ControlEvent {
    }

    /** {@code {"event":"shutdown"}}. */
    record Shutdown() implements ControlEvent {
    }

    /**
     * Parses one line.
     *
     * @throws IllegalArgumentException naming the missing or wrong key
     */
    static ControlEvent parse(ObjectMapper json, String line) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (IOException e) {
            throw new IllegalArgumentException("control line is not JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("control line is not a JSON object: " + line);
        }
        String event = text(node, "event");
        return switch (event) {
            case "boot" -> {
                List<Devices.Fs> fs = new ArrayList<>();
                for (JsonNode f : node.path("fs")) {
                    fs.add(fs(f));
                }
                List<Devices.Disk> disks = new ArrayList<>();
                for (JsonNode d : node.path("disks")) {
                    disks.add(disk(d));
                }
                yield new Boot(fs, disks, node.hasNonNull("log") ? node.get("log").asText() : null);
            }
            case "add-disk" -> new AddDisk(disk(node));
            case "add-fs" -> new AddFs(fs(node));
            case "remove-device" -> new RemoveDevice(text(node, "id"));
            case "shutdown" -> new Shutdown();
            default -> throw new IllegalArgumentException("control key 'event': unknown value '" + event + "'");
        };
    }

    private static Devices.Fs fs(JsonNode node) {
        JsonNode id = node.get("id");
        return new Devices.Fs(id == null || id.isNull() ? null : id.asText(), text(node, "tag"),
                text(node, "sharedDir"));
    }

    private static Devices.Disk disk(JsonNode node) {
        JsonNode path = node.get("path");
        return new Devices.Disk(text(node, "id"), text(node, "bdf"),
                path == null || path.isNull() ? null : path.asText(), node.path("readonly").asBoolean(false));
    }

    private static String text(JsonNode node, String key) {
        JsonNode value = node.get(key);
        if (value == null || !value.isTextual() || value.asText().isEmpty()) {
            throw new IllegalArgumentException("control key '" + key + "': missing or not a string in " + node);
        }
        return value.asText();
    }
}
