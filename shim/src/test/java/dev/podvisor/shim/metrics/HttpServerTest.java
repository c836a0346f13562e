package dev.podvisor.shim.metrics;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HttpServerTest {

    private static String exchange(int port, String request) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = socket.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void routesByPathAndMethodOverTcpAndReadsBodies() throws IOException {
        HttpRoutes routes = new HttpRoutes()
                .get("/hello", request -> HttpResponse.text(200, "hi " + request.query().get("who")))
                .add("/echo", Set.of("PUT"), request -> HttpResponse.text(200, new String(request.body(), StandardCharsets.UTF_8)))
                .get("/boom", request -> {
                    throw new IllegalStateException("it broke");
                });
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress("127.0.0.1", 0));
        int port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
        try (HttpServer server = new HttpServer(routes, error -> { })) {
            server.serve(channel);
            String hello = exchange(port, "GET /hello?who=a%20b HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(hello.startsWith("HTTP/1.1 200 OK\r\n"), hello);
            assertTrue(hello.contains("Content-Length: 6\r\n"), hello);
            assertTrue(hello.endsWith("\r\n\r\nhi a b"), hello);
            assertTrue(exchange(port, "PUT /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody").endsWith("\r\n\r\nbody"));
            assertTrue(exchange(port, "POST /hello HTTP/1.1\r\n\r\n").startsWith("HTTP/1.1 405 "));
            assertTrue(exchange(port, "GET /other HTTP/1.1\r\n\r\n").startsWith("HTTP/1.1 404 "));
            String boom = exchange(port, "GET /boom HTTP/1.1\r\n\r\n");
            assertTrue(boom.startsWith("HTTP/1.1 500 ") && boom.endsWith("it broke\n"), boom);
            assertTrue(exchange(port, "nonsense\r\n\r\n").startsWith("HTTP/1.1 400 "));
        }
        assertEquals(false, channel.isOpen());
    }
}
