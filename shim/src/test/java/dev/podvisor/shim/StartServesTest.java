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
 * {@code start} in a JVM of its own, in the bundle directory, as the launcher runs it: for a new sandbox it prints
 * the address and ends its stdout while the same JVM goes on serving the socket as the daemon; a second start
 * prints the address and exits. Every daemon started here is killed and its socket removed.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class StartServesTest {

    @TempDir
    Path bundle;

    private final String id = "podvisor-test-" + UUID.randomUUID();
    private final String namespace = "podvisor-test";
    private Path socket;
    private Process last;

    @AfterEach
    void killTheDaemon() throws IOException {
        BundleFiles.read(bundle, BundleFiles.SHIM_PID).flatMap(pid -> ProcessHandle.of(Long.parseLong(pid)))
                .ifPresent(ProcessHandle::destroyForcibly);
        if (last != null) {
            last.destroyForcibly();
        }
        if (socket != null) {
            Files.deleteIfExists(socket);
        }
    }

    /** Runs {@code start} in a JVM of its own with {@code config}; its stdout, read to the end. */
    private String start(String config) throws Exception {
        Files.writeString(bundle.resolve("config.json"), config);
        String java = ProcessHandle.current().info().command().orElseThrow();
        last = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), ShimMain.class.getName(), "-namespace", namespace,
                "-address", bundle.resolve("containerd.sock").toString(), "-publish-binary", "/bin/true", "-id", id,
                "start").directory(bundle.toFile()).redirectError(bundle.resolve("start.err").toFile()).start();
        socket = ShimAddress.socketPath(bundle.resolve("containerd.sock").toString(), namespace, id);
        return new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private String start() throws Exception {
        return start("{\"ociVersion\": \"1.0.2\", \"annotations\": {}}");
    }

    private ProcessHandle daemon() {
        Optional<String> pid = BundleFiles.read(bundle, BundleFiles.SHIM_PID);
        assertTrue(pid.isPresent(), "start wrote shim.pid");
        return ProcessHandle.of(Long.parseLong(pid.get())).orElseThrow(() -> new AssertionError("no daemon " + pid.get()));
    }

    @Test
    void theJvmOfStartEndsItsOutputAndServesTheSocketItPrinted() throws Exception {
        String address = start();
        assertEquals(ShimAddress.uri(socket), address);
        assertEquals(Optional.of(address), BundleFiles.read(bundle, BundleFiles.ADDRESS));
        assertEquals(last.pid(), daemon().pid(), "the JVM of start is the daemon");
        assertTrue(last.isAlive(), "it goes on after its output ended");
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket)); // containerd's single dial: no retry
        try (TtrpcClient client = TtrpcClient.over(channel)) {
            TtrpcException notFound = assertThrows(TtrpcException.class, () -> client.call("containerd.task.v2.Task",
                    "State", StateRequest.newBuilder().setId("nobody").build(), StateResponse.parser(), Duration.ofSeconds(90)));
            assertTrue(notFound.getMessage().contains("nobody"), notFound.getMessage());
        }
        assertTrue(leadsItsSession(last.pid(), Duration.ofSeconds(60)), "the daemon left the session it was started in");
        Process daemon = last;
        assertEquals(address, start(), "a second start finds the daemon listening");
        assertEquals(0, last.waitFor(), "and exits");
        assertEquals(Optional.of(Long.toString(daemon.pid())), BundleFiles.read(bundle, BundleFiles.SHIM_PID));
        last = daemon;
    }

    /** Whether {@code pid} leads its own session ({@code /proc/PID/stat} field 6), polled until {@code timeout}. */
    private static boolean leadsItsSession(long pid, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        do {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            if (Long.parseLong(fields[3]) == pid) {
                return true;
            }
            Thread.onSpinWait();
        } while (System.nanoTime() < deadline);
        return false;
    }

    @Test
    void aStartThatFailsSaysWhyOnStdoutAndLeavesNoSocket() throws Exception {
        String out = start("{ not json");
        assertEquals(1, last.waitFor(), out);
        assertTrue(out.startsWith("containerd-shim-kata-v2: " + bundle.resolve("config.json") + ": not valid JSON"), out);
        assertFalse(Files.exists(socket), "no socket");
        assertFalse(Files.exists(bundle.resolve("address")), "no address");
        assertFalse(Files.exists(bundle.resolve("shim.pid")), "no shim.pid");
    }

    @Test
    void aClientOfADaemonThatDiesReadsTheEndInsteadOfHanging() throws Exception {
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
