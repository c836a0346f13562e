package dev.podvisor.testbed.ch;

import dev.podvisor.testbed.log.TestbedLog;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Cloud Hypervisor's hybrid vsock (the Firecracker-style unix socket front of the virtio-vsock device), as
 * the stand-in offers it on {@code VmConfig.vsock.socket}.
 *
 * <p>Host-initiated connections: the client writes {@code CONNECT <port>\n} (the {@code connect } prefix is
 * matched case-insensitively, as CH's {@code vsock/unix/muxer.rs} does); the stand-in connects to the guest
 * emulator's listener {@code <listen dir>/<port>.sock}. On success it answers {@code OK <host port>\n}, where
 * the host port is a local ephemeral port number starting at {@code 1 << 30} like CH's muxer allocates, and
 * then copies bytes both ways; an end of stream on one side is passed on as a half-close to the other and
 * both are closed when both directions ended. When nothing listens on that port, or the command is malformed,
 * the connection is closed without an answer (the client sees EOF and retries, as Kata does).
 *
 * <p>Every connection attempt and its end is logged ({@code component "ch"}, kinds {@code vsock-connect},
 * {@code vsock-refused}, {@code vsock-close}).
 */
public final class HybridVsock implements AutoCloseable {
    private static final int MAX_COMMAND = 64;

    private final Path socket;
    private final Path listenDir;
    private final TestbedLog log;
    private final ServerSocketChannel server;
    private final AtomicLong nextHostPort = new AtomicLong(1L << 30);
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private HybridVsock(Path socket, Path listenDir, TestbedLog log, ServerSocketChannel server) {
        this.socket = socket;
        this.listenDir = listenDir;
        this.log = log;
        this.server = server;
    }

    /**
     * Binds the hybrid vsock socket and starts accepting on a virtual thread.
     *
     * @param socket    the unix socket path from {@code vsock.socket}; must not exist (as for CH, whose bind
     *                  fails with "Address in use")
     * @param listenDir the guest emulator's per-port listener directory
     * @param log       the VM's testbed log
     * @return the running front
     * @throws IOException if the socket cannot be bound
     */
    public static HybridVsock listen(Path socket, Path listenDir, TestbedLog log) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            server.close();
            throw new IOException("vsock socket " + socket + ": cannot bind: " + e.getMessage(), e);
        }
        HybridVsock v = new HybridVsock(socket, listenDir, log, server);
        Thread.ofVirtual().name("ch-vsock-accept").start(v::acceptLoop);
        return v;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                return;
            }
            open.add(c);
            Thread.ofVirtual().name("ch-vsock-conn").start(() -> serve(c));
        }
    }

    private void serve(SocketChannel client) {
        SocketChannel guest = null;
        try {
            String line = readLine(client);
            if (line == null || !line.toLowerCase(Locale.ROOT).startsWith("connect ")) {
                logEvent("vsock-refused", Map.of("command", String.valueOf(line), "reason", "malformed command"));
                return;
            }
            long port;
            try {
                port = Long.parseLong(line.substring("connect ".length()).trim());
                if (port < 0 || port > 0xffff_ffffL) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                logEvent("vsock-refused", Map.of("command", line, "reason", "bad port"));
                return;
            }
            Path target = listenDir.resolve(port + ".sock");
            try {
                guest = SocketChannel.open(StandardProtocolFamily.UNIX);
                guest.connect(UnixDomainSocketAddress.of(target));
            } catch (IOException e) {
                logEvent("vsock-refused", Map.of("port", port, "reason", "guest not listening: " + e.getMessage()));
                return;
            }
            open.add(guest);
            long hostPort = nextHostPort.getAndIncrement();
            writeAll(client, ("OK " + hostPort + "\n").getBytes(StandardCharsets.US_ASCII));
            logEvent("vsock-connect", Map.of("port", port, "hostPort", hostPort));
            SocketChannel g = guest;
            AtomicLong toGuest = new AtomicLong();
            AtomicLong toHost = new AtomicLong();
            Thread up = Thread.ofVirtual().name("ch-vsock-up").start(() -> pump(client, g, toGuest));
            pump(g, client, toHost);
            up.join();
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("port", port);
            f.put("hostPort", hostPort);
            f.put("bytesToGuest", toGuest.get());
            f.put("bytesToHost", toHost.get());
            logEvent("vsock-close", f);
        } catch (IOException | InterruptedException e) {
            logEvent("vsock-close", Map.of("error", String.valueOf(e.getMessage())));
        } finally {
            closeQuietly(client);
            closeQuietly(guest);
            open.remove(client);
            if (guest != null) {
                open.remove(guest);
            }
        }
    }

    private static void pump(SocketChannel from, SocketChannel to, AtomicLong count) {
        ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
        try {
            while (true) {
                buf.clear();
                int n = from.read(buf);
                if (n < 0) {
                    break;
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                count.addAndGet(n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            // one side went away: end both directions
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private static String readLine(SocketChannel c) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (out.size() <= MAX_COMMAND) {
            one.clear();
            if (c.read(one) < 0) {
                return null;
            }
            byte b = one.get(0);
            if (b == '\n') {
                return out.toString(StandardCharsets.US_ASCII);
            }
            out.write(b);
        }
        return null;
    }

    private static void writeAll(SocketChannel c, byte[] bytes) throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            c.write(buf);
        }
    }

    private void logEvent(String kind, Map<String, Object> fields) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("socket", socket.toString());
        f.putAll(fields);
        log.log("ch", kind, f);
    }

    private static void closeQuietly(SocketChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    /** Stops accepting, closes every proxied connection and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // best effort
        }
        for (SocketChannel c : open) {
            closeQuietly(c);
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
