package dev.podvisor.shim.metrics;

import java.nio.charset.StandardCharsets;

/**
 * One HTTP response.
 *
 * @param status      e.g. 200
 * @param contentType the {@code Content-Type}
 * @param body        the body
 */
public record HttpResponse(int status, String contentType, byte[] body) {

    /** A plain-text response. */
    public static HttpResponse text(int status, String text) {
        return new HttpResponse(status, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
    }

    /** A 200 response with the given type. */
    public static HttpResponse ok(String contentType, String body) {
        return new HttpResponse(200, contentType, body.getBytes(StandardCharsets.UTF_8));
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status " + status;
        };
    }
}
