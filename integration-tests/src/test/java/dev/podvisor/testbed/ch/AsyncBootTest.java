package dev.podvisor.testbed.ch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code vm.boot} answers as soon as the VM is configured, as Cloud Hypervisor does; the guest comes up
 * later, and an agent dial over the hybrid vsock waits for it (closed without an answer until the guest
 * listens). A guest that fails to start is logged and later dials fail at once.
 */
class AsyncBootTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Process ch;

    @AfterEach
    void stop() {
        StandIns.kill(ch);
    }

    private Path startStandIn(String guestCmd, String hold) throws Exception {
        Path vmDir = Files.createDirectory(tmp.resolve("vm"));
        Path api = vmDir.resolve("clh-api.sock");
        ProcessBuilder pb = StandIns.builder("cloud-hypervisor", List.of("--api-socket", api.toString()),
                tmp.resolve("ch.out"));
        if (guestCmd != null) {
            pb.environment().put("PODVISOR_TESTBED_GUEST_CMD", guestCmd);
        }
        if (hold != null) {
            pb.environment().put(FakeGuest.HOLD_ENV, hold);
        }
        ch = pb.start();
        StandIns.await("API socket accepts", () -> StandIns.accepts(api), ch, WAIT);
        return vmDir;
    }

    private static String config(Path kernel, Path vsock) {
        return "{\"payload\":{\"kernel\":\"" + kernel + "\"},\"console\":{\"mode\":\"Off\"},"
                + "\"vsock\":{\"cid\":3,\"socket\":\"" + vsock + "\"}}";
    }

    @Test
    void bootAnswersBeforeTheGuestListensAndTheAgentDialWaitsForIt() throws Exception {
        Path release = tmp.resolve("release-guest");
        Path vmDir = startStandIn(null, release.toString());
        Path kernel = Files.write(tmp.resolve("vmlinux"), new byte[16]);
        Path vsock = vmDir.resolve("clh.sock");
        try (ApiClient c = new ApiClient(vmDir.resolve("clh-api.sock"))) {
            assertEquals(204, c.call("PUT", "vm.create", config(kernel, vsock)).status());
            ApiClient.Reply boot = c.call("PUT", "vm.boot", null);
            assertEquals(204, boot.status(), "vm.boot does not wait for a guest that is still held: " + boot.body());
            assertTrue(c.call("GET", "vm.info", null).body().contains("\"state\":\"Running\""));
            assertNull(dial(vsock), "no agent yet: the hybrid vsock closes the connection without an answer");
            assertFalse(Files.exists(vmDir.resolve("fake-guest.jsonl")), "the guest got no event yet");
            Files.createFile(release);
            StandIns.await("agent dial answered", () -> dial(vsock) != null, ch, WAIT);
            assertTrue(dial(vsock).startsWith("OK "));
            StandIns.await("boot event delivered", () -> Files.exists(vmDir.resolve("fake-guest.jsonl")), ch, WAIT);
            assertTrue(Files.readString(vmDir.resolve("fake-guest.jsonl")).contains("\"event\":\"boot\""));
        }
    }

    @Test
    void aGuestThatCannotStartIsLoggedAndDialsFailInsteadOfWaiting() throws Exception {
        Path vmDir = startStandIn("/bin/false", null);
        Path kernel = Files.write(tmp.resolve("vmlinux"), new byte[16]);
        Path vsock = vmDir.resolve("clh.sock");
        try (ApiClient c = new ApiClient(vmDir.resolve("clh-api.sock"))) {
            assertEquals(204, c.call("PUT", "vm.create", config(kernel, vsock)).status());
            assertEquals(204, c.call("PUT", "vm.boot", null).status());
            Path log = vmDir.resolve("testbed.jsonl");
            StandIns.await("guest-start-failed logged", () -> read(log).contains("\"kind\":\"guest-start-failed\""),
                    ch, WAIT);
            assertTrue(read(log).contains("exited with code 1"), read(log));
            StandIns.await("vsock front closed", () -> !Files.exists(vsock), ch, WAIT);
            assertThrowsIo(() -> dialOrThrow(vsock));
            assertEquals(204, c.call("PUT", "vm.shutdown", null).status(), "the VM can still be shut down");
        }
    }

    private interface IoCall {
        Object call() throws IOException;
    }

    private static void assertThrowsIo(IoCall call) {
        try {
            call.call();
        } catch (IOException expected) {
            return;
        }
        throw new AssertionError("the dial was expected to fail");
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** A hybrid vsock dial to the agent port: the answer line, or null when the connection closed first. */
    private static String dial(Path sock) {
        try {
            return dialOrThrow(sock);
        } catch (IOException e) {
            return null;
        }
    }

    private static String dialOrThrow(Path sock) throws IOException {
        try (SocketChannel s = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.connect(UnixDomainSocketAddress.of(sock));
            s.write(ByteBuffer.wrap("CONNECT 1024\n".getBytes(StandardCharsets.US_ASCII)));
            StringBuilder line = new StringBuilder();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (s.read(one) < 0) {
                    return null;
                }
                if (one.get(0) == '\n') {
                    return line.toString();
                }
                line.append((char) one.get(0));
            }
        }
    }
}
