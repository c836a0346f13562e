package dev.podvisor.testbed.ch;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A plain HTTP/1.1 client over the API unix socket that writes requests byte for byte as Cloud Hypervisor's
 * own {@code api_client} does, keeping one connection alive across calls (as Kata does).
 */
public final class ApiClient implements AutoCloseable {
    /** One answer. @param status code @param headers lower-case names @param body text ("" when none) */
    public record Reply(int status, Map<String, String> headers, String body) {
    }

    private final SocketChannel channel;
    private final InputStream in;

    /** @param socket the API socket @throws IOException if it cannot connect */
    public ApiClient(Path socket) throws IOException {
        channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        in = new BufferedInputStream(Channels.newInputStream(channel));
    }

    /**
     * @param method   GET or PUT (or anything, to test refusals)
     * @param endpoint e.g. {@code vm.create}
     * @param body     JSON or null
     * @return the reply
     * @throws IOException on I/O failure
     */
    public Reply call(String method, String endpoint, String body) throws IOException {
        byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " /api/v1/" + endpoint + " HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n"
                + (body != null ? "Content-Type: application/json\r\nContent-Length: " + b.length + "\r\n" : "") + "\r\n";
        ByteBuffer buf = ByteBuffer.allocate(head.length() + b.length);
        buf.put(head.getBytes(StandardCharsets.US_ASCII)).put(b).flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        String status = line();
        if (status == null) {
            throw new IOException("connection closed before the status line");
        }
        int code = Integer.parseInt(status.split(" ")[1]);
        Map<String, String> headers = new LinkedHashMap<>();
        String l;
        while ((l = line()) != null && !l.isEmpty()) {
            int c = l.indexOf(':');
            headers.put(l.substring(0, c).trim().toLowerCase(Locale.ROOT), l.substring(c + 1).trim());
        }
        int len = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        String text = new String(in.readNBytes(len), StandardCharsets.UTF_8);
        return new Reply(code, headers, text);
    }

    private String line() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = out.toString(StandardCharsets.ISO_8859_1);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            out.write(c);
        }
        return out.size() == 0 ? null : out.toString(StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
