package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.serial} and {@code VmConfig.console} (OpenAPI {@code ConsoleConfig}).
 *
 * @param mode   output mode (required)
 * @param file   output file for {@link ConsoleMode#FILE}, or null
 * @param socket socket for {@link ConsoleMode#SOCKET}, or null
 * @param iommu  behind the virtual IOMMU, or null
 */
public record ConsoleConfig(ConsoleMode mode, String file, String socket, Boolean iommu) {

    /**
     * A console in {@code mode} without file, socket or iommu.
     *
     * @param mode the mode
     * @return the config
     */
    public static ConsoleConfig of(ConsoleMode mode) {
        return new ConsoleConfig(mode, null, null, null);
    }

    /** @return {@code {mode, file, socket, iommu}}, mode spelled as {@link ConsoleMode#jsonName()}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("mode", mode == null ? null : mode.jsonName()).put("file", file)
                .put("socket", socket).put("iommu", iommu).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type or a mode {@link ConsoleMode} does not spell
     */
    static ConsoleConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new ConsoleConfig(f.get("mode", ConsoleConfig::mode), f.text("file"), f.text("socket"),
                f.bool("iommu"));
    }

    private static ConsoleMode mode(JsonNode json, String at) throws IOException {
        ConsoleMode mode = json.isTextual() ? ConsoleMode.ofJsonName(json.textValue()) : null;
        if (mode == null) {
            throw ClhFields.wrong(json, at, "one of Off, Pty, Tty, File, Socket, Null");
        }
        return mode;
    }
}
