package dev.podvisor.it.net;

import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A small HTTP server the test runs on one host address (a bridge it made), serving fixed bodies by path, so
 * that a container can fetch from the host. Port chosen by the kernel; closed at {@link #close()}.
 */
public final class HostHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    private HostHttpServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /**
     * @param address a host address on a bridge of the test (never a shared interface)
     * @param bodies  path (e.g. {@code /hello}) to response body
     * @return the started server
     */
    public static HostHttpServer start(String address, Map<String, byte[]> bodies) {
        try {
            HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(address), 0), 8);
            for (var e : bodies.entrySet()) {
                s.createContext(e.getKey(), exchange -> {
                    byte[] body = e.getValue();
                    exchange.sendResponseHeaders(200, body.length);
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(body);
                    }
                });
            }
            ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor();
            s.setExecutor(ex);
            s.start();
            return new HostHttpServer(s, ex);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve HTTP on " + address, e);
        }
    }

    /** @return {@code http://<address>:<port>} */
    public String url() {
        InetSocketAddress a = server.getAddress();
        return "http://" + a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    /** Stops the server at once and its threads. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
