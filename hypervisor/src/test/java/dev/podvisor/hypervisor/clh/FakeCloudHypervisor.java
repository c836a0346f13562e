package dev.podvisor.hypervisor.clh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A scripted stand-in for Cloud Hypervisor's API socket, for tests: HTTP/1.1 on a unix socket, one virtual
 * thread per connection, every request recorded, answers chosen by a handler.
 */
final class FakeCloudHypervisor implements AutoCloseable {

    /** A request as received. */
    record Request(String method, String target, Map<String, String> headers, String body, int connection) {
        String endpoint() {
            return target.substring("/api/v1/".length());
        }
    }

    /**
     * An answer.
     *
     * @param status     HTTP status
     * @param body       body (null = none, no Content-Length)
     * @param closeAfter close the connection after writing it (without a Connection header)
     * @param noAnswer   close the connection without writing anything
     */
    record Reply(int status, String body, boolean closeAfter, boolean noAnswer) {
        static Reply json(String body) {
            return new Reply(200, body, false, false);
        }

        static Reply noContent() {
            return new Reply(204, null, false, false);
        }

        static Reply error(int status, String body) {
            return new Reply(status, body, false, false);
        }

        static Reply hangUp() {
            return new Reply(0, null, true, true);
        }

        Reply thenClose() {
            return new Reply(status, body, true, noAnswer);
        }
    }

    final List<Request> requests = new CopyOnWriteArrayList<>();
    final AtomicInteger connections = new AtomicInteger();
    private final ServerSocketChannel server;
    private final Path socket;
    private volatile Function<Request, Reply> handler;
    private volatile java.util.function.Consumer<Request> afterReply = r -> { };
    private final List<SocketChannel> open = new CopyOnWriteArrayList<>();

    FakeCloudHypervisor(Path socket, Function<Request, Reply> handler) throws IOException {
        this.socket = socket;
        this.handler = handler;
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("fake-ch-accept").start(this::acceptLoop);
    }

    void handler(Function<Request, Reply> h) {
        handler = h;
    }

    /** Runs {@code hook} after each answer has been written and flushed. */
    void onReplySent(java.util.function.Consumer<Request> hook) {
        afterReply = hook;
    }

    private void acceptLoop() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                open.add(ch);
                int n = connections.incrementAndGet();
                Thread.ofVirtual().name("fake-ch-conn-" + n).start(() -> serve(ch, n));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch, int n) {
        try (ch; InputStream in = Channels.newInputStream(ch); OutputStream out = Channels.newOutputStream(ch)) {
            while (true) {
                String requestLine = line(in);
                if (requestLine == null) {
                    return;
                }
                Map<String, String> headers = new LinkedHashMap<>();
                String h;
                while ((h = line(in)) != null && !h.isEmpty()) {
                    int c = h.indexOf(':');
                    headers.put(h.substring(0, c).trim().toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
                }
                int len = Integer.parseInt(headers.getOrDefault("content-length", "0"));
                String body = new String(in.readNBytes(len), StandardCharsets.UTF_8);
                String[] parts = requestLine.split(" ");
                Request req = new Request(parts[0], parts[1], headers, body, n);
                requests.add(req);
                Reply r = handler.apply(req);
                if (r.noAnswer()) {
                    return;
                }
                var sb = new StringBuilder("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status()))
                        .append("\r\nServer: Cloud Hypervisor API\r\n");
                byte[] b = r.body() == null ? new byte[0] : r.body().getBytes(StandardCharsets.UTF_8);
                if (r.body() != null) {
                    sb.append("Content-Type: application/json\r\nContent-Length: ").append(b.length).append("\r\n");
                }
                sb.append("\r\n");
                out.write(sb.toString().getBytes(StandardCharsets.US_ASCII));
                out.write(b);
                out.flush();
                afterReply.accept(req);
                if (r.closeAfter()) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // connection gone
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 500 -> "Internal Server Error";
            default -> "Status";
        };
    }

    private static String line(InputStream in) throws IOException {
        var b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                String s = b.toString(StandardCharsets.US_ASCII);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            b.write(c);
        }
        return b.size() == 0 ? null : b.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (SocketChannel ch : open) {
            ch.close();
        }
        Files.deleteIfExists(socket);
    }
}
