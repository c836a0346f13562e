package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.UnixSockets;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An API client that sends requests as Kata Go's {@code vmAddNetPutRequest} does: one connection kept for
 * every request, each request serialised whole and sent with ONE {@code sendmsg} carrying its fds as
 * {@code SCM_RIGHTS}, then the response read on the same connection before the next request.
 */
final class FdApiClient implements AutoCloseable {
    private final int sock;
    private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

    FdApiClient(Path api) {
        sock = UnixSockets.connect(api);
    }

    /** PUT {@code /api/v1/<endpoint>} with a JSON body and {@code fds}, as Go's DumpRequest writes it. */
    ApiClient.Reply put(String endpoint, String body, int... fds) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        String head = "PUT /api/v1/" + endpoint + " HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Go-http-client/1.1\r\n"
                + "Content-Length: " + b.length + "\r\nAccept: application/json\r\nContent-Type: application/json\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[h.length + b.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(b, 0, all, h.length, b.length);
        UnixSockets.sendWithFds(sock, all, fds);
        return readReply();
    }

    private ApiClient.Reply readReply() throws IOException {
        byte[] buf = new byte[4096];
        int headEnd;
        while ((headEnd = pending.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n")) < 0) {
            int n = Linux.read(sock, buf, 0, buf.length);
            if (n < 0) {
                throw new IOException("connection closed before the response head");
            }
            pending.write(buf, 0, n);
        }
        String text = pending.toString(StandardCharsets.ISO_8859_1);
        String[] lines = text.substring(0, headEnd).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        while (pending.size() < headEnd + 4 + length) {
            int n = Linux.read(sock, buf, 0, buf.length);
            if (n < 0) {
                throw new IOException("connection closed inside the response body");
            }
            pending.write(buf, 0, n);
        }
        byte[] raw = pending.toByteArray();
        String body = new String(raw, headEnd + 4, length, StandardCharsets.UTF_8);
        pending.reset();
        pending.write(raw, headEnd + 4 + length, raw.length - headEnd - 4 - length);
        return new ApiClient.Reply(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
    }

    @Override
    public void close() {
        Linux.closeQuietly(sock);
    }
}
