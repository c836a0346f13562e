package dev.podvisor.shim.metrics;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP/1.1 request as the tiny server reads it.
 *
 * @param method  e.g. {@code GET}
 * @param path    the target's path, e.g. {@code /metrics}
 * @param query   the target's query parameters, decoded (the last value of a repeated name wins)
 * @param headers header names lower-cased → value
 * @param body    the body ({@code Content-Length} bytes), empty when none
 */
public record HttpRequest(String method, String path, Map<String, String> query, Map<String, String> headers,
                          byte[] body) {

    /** Splits a request target ({@code /p?a=1&b=2}) into path and query. */
    public static HttpRequest of(String method, String target, Map<String, String> headers, byte[] body) {
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        Map<String, String> query = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : target.substring(q + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                query.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value, StandardCharsets.UTF_8));
            }
        }
        return new HttpRequest(method, path, Map.copyOf(query), Map.copyOf(headers), body);
    }
}
