package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Cloud Hypervisor's {@code ConsoleConfig.mode} values (JSON spelling as in its OpenAPI spec). */
public enum ConsoleMode {
    /** No device output. */
    @JsonProperty("Off") OFF,
    /** A new pty. */
    @JsonProperty("Pty") PTY,
    /** The VMM's own stdout. */
    @JsonProperty("Tty") TTY,
    /** A file ({@code file}). */
    @JsonProperty("File") FILE,
    /** A unix socket ({@code socket}). */
    @JsonProperty("Socket") SOCKET,
    /** Discarded. */
    @JsonProperty("Null") NULL
}
