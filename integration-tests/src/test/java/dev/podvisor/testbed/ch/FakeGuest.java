package dev.podvisor.testbed.ch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A tiny stand-in for the guest emulator used by the cloud-hypervisor stand-in's tests (started through
 * {@code PODVISOR_TESTBED_GUEST_CMD}): takes {@code --vm-dir --control --vsock-listen-dir}, listens on the
 * control socket, appends every control line to {@code <vm dir>/fake-guest.jsonl}, serves an echo service on
 * vsock port 1024 ({@code <listen dir>/1024.sock}) and exits on {@code {"event":"shutdown"}}. With
 * {@value #HOLD_ENV} set it waits for that file before listening (a slowly booting guest).
 */
public final class FakeGuest {
    /** When set, the fake guest listens on nothing until the file it names exists. */
    public static final String HOLD_ENV = "FAKE_GUEST_HOLD_UNTIL";

    private FakeGuest() {
    }

    /** @param args {@code --vm-dir <d> --control <sock> --vsock-listen-dir <d>} @throws IOException on failure */
    public static void main(String[] args) throws IOException {
        Path vmDir = null;
        Path control = null;
        Path listenDir = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--vm-dir" -> vmDir = Path.of(args[i + 1]);
                case "--control" -> control = Path.of(args[i + 1]);
                case "--vsock-listen-dir" -> listenDir = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (vmDir == null || control == null || listenDir == null) {
            throw new IllegalArgumentException("missing --vm-dir, --control or --vsock-listen-dir");
        }
        Path events = vmDir.resolve("fake-guest.jsonl");
        String hold = System.getenv(HOLD_ENV);
        while (hold != null && !Files.exists(Path.of(hold))) {
            try {
                Thread.sleep(20); // a guest that boots slowly: nothing listens until the test releases it
            } catch (InterruptedException e) {
                return;
            }
        }
        Files.createDirectories(listenDir);
        ServerSocketChannel echo = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Path echoSock = listenDir.resolve("1024.sock");
        Files.deleteIfExists(echoSock);
        echo.bind(UnixDomainSocketAddress.of(echoSock));
        Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                try {
                    SocketChannel c = echo.accept();
                    Thread.ofPlatform().daemon().start(() -> echo(c));
                } catch (IOException e) {
                    return;
                }
            }
        });
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(control));
        try (SocketChannel c = server.accept();
             BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                Files.writeString(events, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                if (line.contains("\"event\":\"shutdown\"")) {
                    break;
                }
            }
        } finally {
            Files.deleteIfExists(echoSock);
            Files.deleteIfExists(control);
        }
        System.exit(0);
    }

    private static void echo(SocketChannel c) {
        try (c) {
            ByteBuffer buf = ByteBuffer.allocate(4096);
            while (c.read(buf) >= 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    c.write(buf);
                }
                buf.clear();
            }
        } catch (IOException ignored) {
            // peer gone
        }
    }
}
