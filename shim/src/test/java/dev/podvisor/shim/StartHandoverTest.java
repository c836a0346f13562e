package dev.podvisor.shim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.protocols.containerd.task.v2.StateRequest;
import dev.podvisor.protocols.containerd.task.v2.StateResponse;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
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
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code start} as containerd runs it (a JVM of its own, in the bundle directory): it returns once the socket
 * listens, without waiting for the daemon's JVM, and the daemon serves the socket start made. Every daemon
 * started here is killed and its socket removed.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StartHandoverTest {

    @TempDir
    Path bundle;

    private final String id = "podvisor-test-" + UUID.randomUUID();
    private final String namespace = "podvisor-test";
    private Path socket;

    @AfterEach
    void killTheDaemon() throws IOException {
        BundleFiles.read(bundle, BundleFiles.SHIM_PID).flatMap(pid -> ProcessHandle.of(Long.parseLong(pid)))
                .ifPresent(ProcessHandle::destroyForcibly);
        if (socket != null) {
            Files.deleteIfExists(socket);
        }
    }

    /** Runs {@code start} in a JVM of its own; its stdout (the address). */
    private String start() throws Exception {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\": \"1.0.2\", \"annotations\": {}}");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process start = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ShimMain.class.getName(), "-namespace", namespace,
                "-address", bundle.resolve("containerd.sock").toString(), "-publish-binary", "/bin/true", "-id", id,
                "start").directory(bundle.toFile()).redirectError(bundle.resolve("start.err").toFile()).start();
        String out = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, start.waitFor(), () -> "start's exit status; its stderr: " + readQuietly(bundle.resolve("start.err")));
        socket = ShimAddress.socketPath(bundle.resolve("containerd.sock").toString(), namespace, id);
        return out;
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return e.toString();
        }
    }

    private ProcessHandle daemon() {
        Optional<String> pid = BundleFiles.read(bundle, BundleFiles.SHIM_PID);
        assertTrue(pid.isPresent(), "start wrote shim.pid");
        return ProcessHandle.of(Long.parseLong(pid.get())).orElseThrow(() -> new AssertionError("no daemon " + pid.get()));
    }

    @Test
    void theDaemonServesTheSocketStartPrinted() throws Exception {
        String address = start();
        assertEquals(ShimAddress.uri(socket), address);
        assertEquals(Optional.of(address), BundleFiles.read(bundle, BundleFiles.ADDRESS));
        assertTrue(daemon().info().commandLine().orElse("").contains(ShimMain.class.getName()));
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket)); // containerd's single dial: no retry
        try (TtrpcClient client = TtrpcClient.over(channel)) {
            TtrpcException notFound = assertThrows(TtrpcException.class, () -> client.call("containerd.task.v2.Task",
                    "State", StateRequest.newBuilder().setId("nobody").build(), StateResponse.parser(), Duration.ofSeconds(90)));
            assertTrue(notFound.getMessage().contains("nobody"), notFound.getMessage());
        }
        assertEquals(address, start(), "a second start finds the daemon listening and starts none");
    }

    @Test
    void aClientOfADaemonThatDiesBeforeServingReadsTheEndInsteadOfHanging() throws Exception {
        start();
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ProcessHandle daemon = daemon();
            daemon.destroyForcibly();
            daemon.onExit().get();
            int read;
            try {
                read = channel.read(ByteBuffer.allocate(16));
            } catch (IOException reset) {
                read = -1;
            }
            assertEquals(-1, read, "end of stream once nobody holds the listener");
        }
        assertFalse(StartCommand.connectable(socket), "nobody listens any more");
        assertEquals(ShimAddress.uri(socket), start(), "the next start replaces the stale socket");
        assertTrue(StartCommand.connectable(socket));
    }
}
