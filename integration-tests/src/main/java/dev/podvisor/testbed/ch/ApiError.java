package dev.podvisor.testbed.ch;

import java.util.List;

/**
 * An API failure as Cloud Hypervisor reports it: an HTTP status and the error chain (outermost first), sent
 * as a JSON array of strings (the v47+ body format, {@code vmm/src/api/http/mod.rs error_response}).
 */
public final class ApiError extends Exception {
    private final int status;
    private final List<String> chain;

    /**
     * @param status HTTP status (400, 404, 409, 429 or 500)
     * @param chain  error messages from the outermost to the root cause
     */
    public ApiError(int status, List<String> chain) {
        super(String.join(": ", chain));
        this.status = status;
        this.chain = List.copyOf(chain);
    }

    /** @param status HTTP status @param chain the messages @return the error */
    public static ApiError of(int status, String... chain) {
        return new ApiError(status, List.of(chain));
    }

    /** @return the HTTP status */
    public int status() {
        return status;
    }

    /** @return the error chain */
    public List<String> chain() {
        return chain;
    }
}
