package dev.podvisor.shim.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The HTTP/1.1 message framing both ends here use: a start line and headers in ISO-8859-1, each ending in
 * CRLF (a bare LF is accepted), then a {@code Content-Length} body, or, in a response without one, a body up
 * to the end of the connection. Chunked transfer encoding is not supported (neither end sends it).
 */
final class HttpWire {

    /** Upper bound of the start line plus headers. */
    static final int MAX_HEAD_BYTES = 16 * 1024;
    /** Upper bound of a body read into memory. */
    static final int MAX_BODY_BYTES = 64 * 1024 * 1024;

    private HttpWire() {
    }

    /** A start line and its headers (names lower-cased). */
    record Head(String startLine, Map<String, String> headers) {

        /** {@code Content-Length}, or -1 when absent. */
        long contentLength() throws IOException {
            String value = headers.get("content-length");
            if (value == null) {
                return -1;
            }
            try {
                long n = Long.parseLong(value.trim());
                if (n < 0 || n > MAX_BODY_BYTES) {
                    throw new IOException("Content-Length " + value + " out of range");
                }
                return n;
            } catch (NumberFormatException e) {
                throw new IOException("Content-Length '" + value + "' is not a number");
            }
        }
    }

    /**
     * Reads a start line and headers.
     *
     * @return null at a clean end of stream before any byte
     * @throws IOException on a malformed or oversize head, or a read error
     */
    static Head readHead(InputStream in) throws IOException {
        String start = readLine(in, true);
        if (start == null) {
            return null;
        }
        Map<String, String> headers = new LinkedHashMap<>();
        int total = start.length();
        while (true) {
            String line = readLine(in, false);
            if (line.isEmpty()) {
                return new Head(start, headers);
            }
            total += line.length();
            if (total > MAX_HEAD_BYTES) {
                throw new IOException("HTTP head longer than " + MAX_HEAD_BYTES + " bytes");
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IOException("malformed header line '" + line + "'");
            }
            headers.put(line.substring(0, colon).trim().toLowerCase(), line.substring(colon + 1).trim());
        }
    }

    /** Reads exactly {@code length} bytes, or to the end of the stream when {@code length} is -1. */
    static byte[] readBody(InputStream in, long length) throws IOException {
        if (length < 0) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buffer = new byte[8192];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                if (out.size() > MAX_BODY_BYTES) {
                    throw new IOException("HTTP body longer than " + MAX_BODY_BYTES + " bytes");
                }
            }
            return out.toByteArray();
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length != length) {
            throw new IOException("connection closed after " + body.length + " of " + length + " body bytes");
        }
        return body;
    }

    /** Writes a head and body with {@code Content-Length} in one write. */
    static void write(OutputStream out, String startLine, Map<String, String> headers, byte[] body) throws IOException {
        StringBuilder head = new StringBuilder(128).append(startLine).append("\r\n");
        headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
        head.append("Content-Length: ").append(body.length).append("\r\n\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        out.write(all);
        out.flush();
    }

    private static String readLine(InputStream in, boolean eofAllowed) throws IOException {
        StringBuilder line = new StringBuilder(64);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (eofAllowed && line.isEmpty()) {
                    return null;
                }
                throw new IOException("connection closed inside the HTTP head");
            }
            if (b == '\n') {
                int end = line.length();
                if (end > 0 && line.charAt(end - 1) == '\r') {
                    line.setLength(end - 1);
                }
                return line.toString();
            }
            line.append((char) b);
            if (line.length() > MAX_HEAD_BYTES) {
                throw new IOException("HTTP line longer than " + MAX_HEAD_BYTES + " bytes");
            }
        }
    }
}
