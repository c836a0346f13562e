package dev.podvisor.hypervisor.clh;

/**
 * Cloud Hypervisor's {@code ConsoleConfig.mode} values, with their JSON spelling from its
 * {@code vmm/src/api/openapi/cloud-hypervisor.yaml} ({@code "Off"}, {@code "Pty"}, {@code "Tty"}, {@code "File"},
 * {@code "Socket"}, {@code "Null"}).
 */
public enum ConsoleMode {
    /** No device output. */
    OFF("Off"),
    /** A new pty. */
    PTY("Pty"),
    /** The VMM's own stdout. */
    TTY("Tty"),
    /** A file ({@code file}). */
    FILE("File"),
    /** A unix socket ({@code socket}). */
    SOCKET("Socket"),
    /** Discarded. */
    NULL("Null");

    private final String jsonName;

    ConsoleMode(String jsonName) {
        this.jsonName = jsonName;
    }

    /** @return the JSON spelling, e.g. {@code "Off"} */
    public String jsonName() {
        return jsonName;
    }

    /**
     * The mode of a JSON spelling.
     *
     * @param jsonName e.g. {@code "Tty"} (case-sensitive, as Cloud Hypervisor's serde)
     * @return the mode, or null when no mode is spelled so
     */
    public static ConsoleMode ofJsonName(String jsonName) {
        for (ConsoleMode mode : values()) {
            if (mode.jsonName.equals(jsonName)) {
                return mode;
            }
        }
        return null;
    }
}
