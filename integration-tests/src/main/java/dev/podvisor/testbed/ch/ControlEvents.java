package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The device entries of the guest control events (testbed contract in {@code docs/architecture.md}):
 * virtio-fs ({@code tag}, {@code sharedDir}, {@code id}) and disks ({@code id}, {@code bdf}, {@code path},
 * {@code readonly}), either inside {@code boot} or as their own {@code add-fs} / {@code add-disk} event.
 */
final class ControlEvents {
    private ControlEvents() {
    }

    /** @param event the event name, or null for an entry of {@code boot} @return the fs entry */
    static Map<String, Object> fs(String event, String id, FsBackends.FsBackend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (event != null) {
            m.put("event", event);
        }
        m.put("tag", b.tag());
        m.put("sharedDir", b.sharedDir());
        m.put("id", id);
        return m;
    }

    /** @param event the event name, or null for an entry of {@code boot} @return the disk entry */
    static Map<String, Object> disk(String event, PciBus.Device d, JsonNode disk) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (event != null) {
            m.put("event", event);
        }
        m.put("id", d.id());
        m.put("bdf", d.bdf());
        m.put("path", disk.hasNonNull("path") ? disk.get("path").asText() : null);
        m.put("readonly", disk.get("readonly").asBoolean());
        return m;
    }

    /** @param id a removed device @return {@code {"event":"remove-device","id":...}} */
    static Map<String, Object> removeDevice(String id) {
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("event", "remove-device");
        ev.put("id", id);
        return ev;
    }
}
