package dev.podvisor.shim.metrics;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A tiny HTTP/1.1 server on any blocking {@link ServerSocketChannel} (unix or TCP): one virtual thread accepts,
 * each connection is served on its own short-lived virtual thread, one request per connection
 * ({@code Connection: close}). No platform thread, no pool, no framework: the shim's management socket costs
 * almost nothing while nobody scrapes it. At most {@link #MAX_CONNECTIONS} connections are served at once;
 * more are closed unanswered.
 */
public final class HttpServer implements AutoCloseable {

    /** Connections served at the same time. */
    static final int MAX_CONNECTIONS = 32;

    private final HttpRoutes routes;
    private final Consumer<String> onError;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile ServerSocketChannel listener;
    private volatile boolean closed;

    /**
     * @param routes  what answers
     * @param onError told about connections that failed (a malformed request, a peer gone mid-answer)
     */
    public HttpServer(HttpRoutes routes, Consumer<String> onError) {
        this.routes = routes;
        this.onError = onError;
    }

    /**
     * Starts accepting on {@code channel} (which the server owns from now on); returns at once.
     *
     * @throws IllegalStateException if already serving or closed
     */
    public synchronized void serve(ServerSocketChannel channel) {
        if (listener != null || closed) {
            throw new IllegalStateException("http server: already serving or closed");
        }
        listener = channel;
        Thread.ofVirtual().name("http-accept").start(this::acceptLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel connection;
            try {
                connection = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    onError.accept("accept failed: " + e.getMessage());
                    close();
                }
                return;
            }
            if (open.size() >= MAX_CONNECTIONS) {
                closeQuietly(connection);
                continue;
            }
            open.add(connection);
            Thread.ofVirtual().name("http-conn").start(() -> serveOne(connection));
        }
    }

    private void serveOne(SocketChannel connection) {
        try (connection) {
            InputStream in = new BufferedInputStream(Channels.newInputStream(connection), 4096);
            OutputStream out = Channels.newOutputStream(connection);
            HttpWire.Head head = HttpWire.readHead(in);
            if (head == null) {
                return;
            }
            String[] start = head.startLine().split(" ");
            HttpResponse response;
            if (start.length != 3 || !start[2].startsWith("HTTP/1.")) {
                response = HttpResponse.text(400, "malformed request line\n");
            } else {
                long length = head.contentLength();
                byte[] body = length > 0 ? HttpWire.readBody(in, length) : new byte[0];
                response = routes.handle(HttpRequest.of(start[0], start[1], head.headers(), body));
            }
            HttpWire.write(out, "HTTP/1.1 " + response.status() + " " + HttpResponse.reason(response.status()),
                    Map.of("Content-Type", response.contentType(), "Connection", "close"), response.body());
        } catch (IOException e) {
            if (!closed) {
                onError.accept("connection failed: " + e.getMessage());
            }
        } finally {
            open.remove(connection);
        }
    }

    /** Stops accepting and closes open connections. Idempotent. */
    @Override
    public void close() {
        closed = true;
        ServerSocketChannel channel = listener;
        if (channel != null) {
            closeQuietly(channel);
        }
        for (SocketChannel connection : open) {
            closeQuietly(connection);
        }
    }

    private static void closeQuietly(java.io.Closeable closeable) {
        try {
            closeable.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
