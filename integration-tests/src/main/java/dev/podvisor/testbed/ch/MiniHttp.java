package dev.podvisor.testbed.ch;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The small HTTP/1.1 subset Cloud Hypervisor's {@code micro_http} server speaks on the API socket: one
 * request at a time per connection (keep-alive), bodies framed by {@code Content-Length} only (no chunked
 * transfer coding), responses with {@code Server: Cloud Hypervisor API} and
 * {@code Content-Type: application/json}.
 */
public final class MiniHttp {
    private static final int MAX_HEAD = 16 * 1024;
    private static final int MAX_BODY = 16 * 1024 * 1024;

    private MiniHttp() {
    }

    /**
     * One parsed request.
     *
     * @param method  e.g. {@code PUT}
     * @param path    absolute path without query, e.g. {@code /api/v1/vm.create}
     * @param headers header names lower-cased
     * @param body    the body bytes (empty when there is none)
     */
    public record Request(String method, String path, Map<String, String> headers, byte[] body) {
        /** @return true when the client asked to close the connection after this request */
        public boolean wantsClose() {
            return "close".equalsIgnoreCase(headers.getOrDefault("connection", ""));
        }
    }

    /** A request the server cannot frame (bad request line, chunked body, oversized head). */
    public static final class BadRequest extends IOException {
        /** @param message what was wrong */
        public BadRequest(String message) {
            super(message);
        }
    }

    /**
     * Reads one request.
     *
     * @param in the connection's input
     * @return the request, or null at a clean end of stream before any byte
     * @throws BadRequest when the bytes are not an HTTP/1.x request this server frames
     * @throws IOException on I/O failure or a truncated request
     */
    public static Request read(InputStream in) throws IOException {
        return read(in, null);
    }

    /**
     * Reads one request, answering {@code Expect: 100-continue} (as curl sends for larger bodies) on
     * {@code out} before reading the body.
     *
     * @param in  the connection's input
     * @param out the connection's output, or null to ignore {@code Expect}
     * @return the request, or null at a clean end of stream before any byte
     * @throws BadRequest when the bytes are not an HTTP/1.x request this server frames
     * @throws IOException on I/O failure or a truncated request
     */
    public static Request read(InputStream in, OutputStream out) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        byte[] last = new byte[4];
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (head.size() == 0) {
                    return null;
                }
                throw new IOException("connection closed inside the request head");
            }
            head.write(b);
            if (head.size() > MAX_HEAD) {
                throw new BadRequest("request head larger than " + MAX_HEAD + " bytes");
            }
            System.arraycopy(last, 1, last, 0, 3);
            last[3] = (byte) b;
            if (b == '\n' && (last[2] == '\n' || (last[2] == '\r' && last[1] == '\n'))) {
                break;
            }
            if (head.size() == 2 && last[2] == '\r' && last[3] == '\n') {
                head.reset(); // tolerate a stray CRLF between requests, as RFC 9112 allows
            }
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] requestLine = lines[0].split(" ");
        if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
            throw new BadRequest("bad request line '" + lines[0] + "'");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            if (lines[i].isEmpty()) {
                continue;
            }
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                throw new BadRequest("bad header line '" + lines[i] + "'");
            }
            headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    lines[i].substring(colon + 1).trim());
        }
        if (headers.containsKey("transfer-encoding")) {
            throw new BadRequest("Transfer-Encoding '" + headers.get("transfer-encoding") + "' is not supported");
        }
        int length = 0;
        String cl = headers.get("content-length");
        if (cl != null) {
            try {
                length = Integer.parseInt(cl.trim());
            } catch (NumberFormatException e) {
                throw new BadRequest("bad Content-Length '" + cl + "'");
            }
            if (length < 0 || length > MAX_BODY) {
                throw new BadRequest("bad Content-Length '" + cl + "'");
            }
        }
        if (out != null && length > 0 && "100-continue".equalsIgnoreCase(headers.getOrDefault("expect", ""))) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        byte[] body = in.readNBytes(length);
        if (body.length != length) {
            throw new IOException("connection closed inside the request body");
        }
        String target = requestLine[1];
        int q = target.indexOf('?');
        String path = q >= 0 ? target.substring(0, q) : target;
        return new Request(requestLine[0], path, headers, body);
    }

    /**
     * Writes one response.
     *
     * @param out    the connection's output
     * @param status HTTP status code
     * @param body   JSON body or null for none
     * @param close  true to announce {@code Connection: close}
     * @throws IOException on I/O failure
     */
    public static void write(OutputStream out, int status, String body, boolean close) throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        sb.append("Server: Cloud Hypervisor API\r\n");
        sb.append("Connection: ").append(close ? "close" : "keep-alive").append("\r\n");
        sb.append("Content-Type: application/json\r\n");
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        if (status != 204) {
            sb.append("Content-Length: ").append(b.length).append("\r\n");
        }
        sb.append("\r\n");
        byte[] h = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + (status == 204 ? 0 : b.length)];
        System.arraycopy(h, 0, all, 0, h.length);
        if (status != 204) {
            System.arraycopy(b, 0, all, h.length, b.length);
        }
        out.write(all);
        out.flush();
    }

    /** @param status an HTTP status code @return its reason phrase */
    public static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 409 -> "Conflict";
            case 429 -> "Too Many Requests";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }
}
