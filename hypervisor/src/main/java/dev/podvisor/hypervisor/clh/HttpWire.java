package dev.podvisor.hypervisor.clh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The minimum of HTTP/1.1 Cloud Hypervisor's API speaks, independent of the transport: the request bytes
 * (request line, {@code Host: localhost}, {@code Accept}, and for a body {@code Content-Type} and
 * {@code Content-Length}) and the parsing of one answer (status line, headers, a {@code Content-Length} body,
 * none for 204, or a body that runs to the end of the connection).
 */
final class HttpWire {
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    private HttpWire() {
    }

    /** Where answer bytes come from: like {@code InputStream.read}, -1 at the end of the connection. */
    @FunctionalInterface
    interface Source {
        int read(byte[] buf, int off, int len) throws IOException;
    }

    /**
     * One answer.
     *
     * @param status    the HTTP status
     * @param body      the body as UTF-8 text, empty when there is none
     * @param keepAlive whether the connection may carry the next request
     */
    record Response(int status, String body, boolean keepAlive) {
    }

    /** The connection closed before any byte of the answer arrived (the request may be sent again). */
    static final class ClosedWithoutAnswerException extends IOException {
        ClosedWithoutAnswerException(String message) {
            super(message);
        }
    }

    /** The request bytes: head and, when {@code body} is not null, a JSON body. */
    static byte[] request(String method, String endpoint, byte[] body) {
        var sb = new StringBuilder(160);
        sb.append(method).append(" /api/v1/").append(endpoint).append(" HTTP/1.1\r\n")
                .append("Host: localhost\r\n")
                .append("Accept: application/json\r\n");
        if (body != null) {
            sb.append("Content-Type: application/json\r\n").append("Content-Length: ").append(body.length)
                    .append("\r\n");
        } else if (method.equals("PUT")) {
            sb.append("Content-Length: 0\r\n");
        }
        sb.append("\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
        if (body == null) {
            return head;
        }
        byte[] all = new byte[head.length + body.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(body, 0, all, head.length, body.length);
        return all;
    }

    /**
     * Reads one answer from {@code source}, never past its end when it has a length.
     *
     * @param what names the call in error messages
     * @throws ClosedWithoutAnswerException when the connection ended (or was reset) before the first byte
     * @throws IOException                  on a malformed or oversized answer or an early end
     */
    static Response readResponse(Source source, String what) throws IOException {
        var acc = new ByteArrayOutputStream(512);
        byte[] buf = new byte[4096];
        int headerEnd;
        while ((headerEnd = indexOfHeaderEnd(acc)) < 0) {
            if (acc.size() > MAX_HEADER_BYTES) {
                throw new IOException(what + ": answer headers exceed " + MAX_HEADER_BYTES + " bytes");
            }
            int n;
            try {
                n = source.read(buf, 0, buf.length);
            } catch (java.net.SocketException reset) {
                // ECONNRESET: the VMM closed the connection with our request unread, like an end before the
                // first byte (the caller may send it once more on a fresh connection); later, a broken answer
                if (acc.size() == 0) {
                    throw new ClosedWithoutAnswerException(what + ": connection reset without an answer");
                }
                throw reset;
            }
            if (n < 0) {
                if (acc.size() == 0) {
                    throw new ClosedWithoutAnswerException(what + ": connection closed without an answer");
                }
                throw new IOException(what + ": connection closed inside the answer headers");
            }
            acc.write(buf, 0, n);
        }
        byte[] all = acc.toByteArray();
        String head = new String(all, 0, headerEnd, StandardCharsets.ISO_8859_1);
        String[] lines = head.split("\r\n");
        String[] statusParts = lines[0].split(" ", 3);
        int status;
        try {
            if (statusParts.length < 2 || !statusParts[0].startsWith("HTTP/1.")) {
                throw new NumberFormatException();
            }
            status = Integer.parseInt(statusParts[1]);
        } catch (NumberFormatException e) {
            throw new IOException(what + ": bad status line '" + lines[0] + "'");
        }
        long contentLength = -1;
        boolean keepAlive = statusParts[0].equals("HTTP/1.1");
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = lines[i].substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> {
                    try {
                        contentLength = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        throw new IOException(what + ": bad Content-Length '" + value + "'");
                    }
                }
                case "connection" -> keepAlive = !value.equalsIgnoreCase("close")
                        && (keepAlive || value.equalsIgnoreCase("keep-alive"));
                case "transfer-encoding" -> {
                    if (!value.equalsIgnoreCase("identity")) {
                        throw new IOException(what + ": unsupported Transfer-Encoding '" + value + "'");
                    }
                }
                default -> { }
            }
        }
        int bodyStart = headerEnd + 4;
        var body = new ByteArrayOutputStream();
        body.write(all, bodyStart, all.length - bodyStart);
        boolean noBody = status == 204 || status == 304 || (status >= 100 && status < 200);
        if (noBody) {
            contentLength = 0;
        }
        if (contentLength > MAX_BODY_BYTES) {
            throw new IOException(what + ": answer body of " + contentLength + " bytes is too large");
        }
        if (contentLength >= 0) {
            while (body.size() < contentLength) {
                int n = source.read(buf, 0, (int) Math.min(buf.length, contentLength - body.size()));
                if (n < 0) {
                    throw new IOException(what + ": connection closed after " + body.size() + " of "
                            + contentLength + " body bytes");
                }
                body.write(buf, 0, n);
            }
            if (body.size() > contentLength) {
                keepAlive = false; // stray bytes after the answer: the stream is out of step
            }
            byte[] b = body.toByteArray();
            return new Response(status, new String(b, 0, (int) contentLength, StandardCharsets.UTF_8), keepAlive);
        }
        // no length: the body runs to the end of the connection
        while (true) {
            int n = source.read(buf, 0, buf.length);
            if (n < 0) {
                break;
            }
            body.write(buf, 0, n);
            if (body.size() > MAX_BODY_BYTES) {
                throw new IOException(what + ": answer body exceeds " + MAX_BODY_BYTES + " bytes");
            }
        }
        return new Response(status, body.toString(StandardCharsets.UTF_8), false);
    }

    private static int indexOfHeaderEnd(ByteArrayOutputStream acc) {
        byte[] b = acc.toByteArray();
        for (int i = 0; i + 3 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                return i;
            }
        }
        return -1;
    }
}
