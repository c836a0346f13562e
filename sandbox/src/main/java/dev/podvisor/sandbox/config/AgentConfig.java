package dev.podvisor.sandbox.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code [agent.kata]} table of configuration.toml (Kata Go src/runtime/pkg/katautils/config.go {@code agent}).
 *
 * @param dialTimeoutSeconds  {@code dial_timeout}: how long to keep trying to reach the agent over hybrid vsock
 *                            after boot, in seconds; default 45, the value Kata's configuration-clh.toml ships (Go's
 *                            code falls back to 30 only when the key is absent or 0; Podvisor uses 45 for both, so a
 *                            file with the key commented out behaves like the shipped file)
 * @param kernelModules       {@code kernel_modules}: guest kernel modules the agent loads, each
 *                            {@code "<name> <params...>"}; default []
 * @param enableDebug         {@code enable_debug}: agent debug log level; default false
 * @param enableTracing       {@code enable_tracing}: agent OpenTelemetry spans; default false
 * @param debugConsoleEnabled {@code debug_console_enabled}: start the agent's debug console; default false
 */
public record AgentConfig(int dialTimeoutSeconds, List<String> kernelModules, boolean enableDebug,
                          boolean enableTracing, boolean debugConsoleEnabled) {

    /** Default {@code dial_timeout} in seconds (configuration-clh.toml). */
    public static final int DEFAULT_DIAL_TIMEOUT_SECONDS = 45;

    /** Copies the list so the record is immutable. */
    public AgentConfig {
        kernelModules = List.copyOf(kernelModules);
    }

    /** @return the defaults, as from an empty {@code [agent.kata]} table */
    public static AgentConfig defaults() {
        return new AgentConfig(DEFAULT_DIAL_TIMEOUT_SECONDS, List.of(), false, false, false);
    }

    /** @return {@code dial_timeout} as a Duration */
    public Duration dialTimeout() {
        return Duration.ofSeconds(dialTimeoutSeconds);
    }
}
