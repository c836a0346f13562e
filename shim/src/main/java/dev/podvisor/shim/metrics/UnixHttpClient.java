package dev.podvisor.shim.metrics;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code GET} over a unix socket, one request per connection, with a deadline: the exchange runs on a virtual
 * thread and the connection is closed when the deadline passes, which ends it. What kata-monitor's shim client
 * does over Go's {@code http.Client} (kata-containers: src/runtime/pkg/kata-monitor/shim_client.go).
 */
public final class UnixHttpClient {

    private UnixHttpClient() {
    }

    /**
     * @param socket  the server's socket
     * @param target  path and query, e.g. {@code /metrics}
     * @param timeout for connecting, sending and reading the whole answer
     * @return the response (any status)
     * @throws IOException when the socket refuses or disappears, the answer is malformed or cut short, or the
     *                     deadline passes (the message says which)
     */
    public static HttpResponse get(Path socket, String target, Duration timeout) throws IOException {
        return exchange(socket, "GET", target, Map.of("Host", "localhost", "Connection", "close"), new byte[0], timeout);
    }

    /**
     * {@code POST} of a JSON body, as Kata's shimclient.DoPost sends {@code /direct-volume/resize}; otherwise as
     * {@link #get}.
     */
    public static HttpResponse postJson(Path socket, String target, byte[] body, Duration timeout) throws IOException {
        return exchange(socket, "POST", target, Map.of("Host", "localhost", "Connection", "close",
                "Content-Type", "application/json"), body, timeout);
    }

    private static HttpResponse exchange(Path socket, String method, String target, Map<String, String> headers,
                                         byte[] requestBody, Duration timeout) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        FutureTask<HttpResponse> exchange = new FutureTask<>(() -> {
            channel.connect(UnixDomainSocketAddress.of(socket));
            HttpWire.write(Channels.newOutputStream(channel), method + " " + target + " HTTP/1.1", headers, requestBody);
            InputStream in = new BufferedInputStream(Channels.newInputStream(channel), 8192);
            HttpWire.Head head = HttpWire.readHead(in);
            if (head == null) {
                throw new IOException("connection closed before an answer");
            }
            String[] status = head.startLine().split(" ", 3);
            if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
                throw new IOException("malformed status line '" + head.startLine() + "'");
            }
            int code;
            try {
                code = Integer.parseInt(status[1]);
            } catch (NumberFormatException e) {
                throw new IOException("malformed status line '" + head.startLine() + "'");
            }
            byte[] body = HttpWire.readBody(in, head.contentLength());
            return new HttpResponse(code, head.headers().getOrDefault("content-type", ""), body);
        });
        Thread.ofVirtual().name("http-get").start(exchange);
        try {
            return exchange.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IOException(socket + " " + target + ": no answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new IOException(socket + " " + target + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(socket + " " + target + ": interrupted", e);
        } finally {
            channel.close();
        }
    }
}
