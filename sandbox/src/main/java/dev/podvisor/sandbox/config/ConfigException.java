package dev.podvisor.sandbox.config;

/**
 * A configuration problem: a missing or unreadable configuration file, a TOML syntax error, a value of the wrong
 * type or out of range, a path that does not exist, or a refused annotation.
 *
 * <p>The message always names where the problem is: the file, the key with its table
 * ({@code [hypervisor.clh] default_memory = "lots": expected an integer number of MiB}) or the annotation
 * ({@code annotation io.katacontainers.config.hypervisor.default_memory is not enabled}).
 */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** @param message the full message, naming the file, key or annotation and the offending value */
    public ConfigException(String message) {
        super(message);
    }

    /**
     * @param message the full message, naming the file, key or annotation and the offending value
     * @param cause   the underlying error (I/O, TOML parser)
     */
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
