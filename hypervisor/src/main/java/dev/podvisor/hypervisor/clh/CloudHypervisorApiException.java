package dev.podvisor.hypervisor.clh;

import java.io.IOException;

/**
 * Cloud Hypervisor answered a request with a status other than 2xx. Cloud Hypervisor's error bodies differ by
 * version (Debug text in v33, Display text in v41, a JSON array of the error chain from v47), so the body is
 * kept as text.
 */
public final class CloudHypervisorApiException extends IOException {
    private final String endpoint;
    private final int statusCode;
    private final String body;

    /**
     * @param method     HTTP method ({@code GET}/{@code PUT})
     * @param endpoint   endpoint name, e.g. {@code vm.add-disk}
     * @param statusCode HTTP status code
     * @param body       response body as text (may be empty)
     */
    public CloudHypervisorApiException(String method, String endpoint, int statusCode, String body) {
        super("cloud-hypervisor " + method + " " + endpoint + ": HTTP " + statusCode
                + (body.isBlank() ? "" : ": " + body.strip()));
        this.endpoint = endpoint;
        this.statusCode = statusCode;
        this.body = body;
    }

    /** @return the endpoint name, e.g. {@code vm.boot} */
    public String endpoint() {
        return endpoint;
    }

    /** @return the HTTP status code */
    public int statusCode() {
        return statusCode;
    }

    /** @return the response body as text, empty when there was none */
    public String body() {
        return body;
    }
}
