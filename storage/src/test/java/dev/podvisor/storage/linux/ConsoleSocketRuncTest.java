package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ConsoleSocket} with the real {@code runc create --console-socket}. Needs root and runc (installed
 * with containerd on the project's machines); skipped where runc is missing, as it cannot run without it.
 * The container (host {@code /usr}, {@code /bin}, {@code /lib*} bound read-only into an empty rootfs) is
 * only created, never started, and deleted with {@code runc delete -f}.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
@EnabledIf("runcInstalled")
class ConsoleSocketRuncTest {

    @TempDir
    Path dir;

    static boolean runcInstalled() {
        return Files.isExecutable(Path.of("/usr/sbin/runc")) || Files.isExecutable(Path.of("/usr/bin/runc"));
    }

    private static Process run(List<String> command) throws Exception {
        return new ProcessBuilder(command).redirectErrorStream(true).start();
    }

    private static String finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "process did not end: " + out);
        return out;
    }

    @Test
    void receivesThePtyMasterFromRunc() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle/rootfs")).getParent();
        Process spec = run(List.of("runc", "spec", "--bundle", bundle.toString()));
        String specOut = finish(spec);
        assertEquals(0, spec.exitValue(), specOut);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(bundle.resolve("config.json").toFile());
        ((ObjectNode) config.get("root")).put("readonly", true);
        ObjectNode process = (ObjectNode) config.get("process");
        process.put("terminal", true);
        process.putArray("args").add("/bin/sh");
        ArrayNode mounts = (ArrayNode) config.get("mounts");
        for (String d : List.of("/usr", "/bin", "/lib", "/lib64")) {
            mounts.addObject().put("destination", d).put("type", "bind").put("source", d)
                    .putArray("options").add("rbind").add("ro");
        }
        ArrayNode namespaces = ((ObjectNode) config.get("linux")).putArray("namespaces");
        for (String ns : List.of("mount", "pid", "ipc", "uts")) {
            namespaces.addObject().put("type", ns);
        }
        json.writeValue(bundle.resolve("config.json").toFile(), config);

        Path root = dir.resolve("runc-root");
        String id = "podvisor-linux-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        Path socketPath = dir.resolve("console.sock");
        int master = -1;
        try (ConsoleSocket socket = ConsoleSocket.listen(socketPath)) {
            Process create = run(List.of("runc", "--root", root.toString(), "create", "--bundle", bundle.toString(),
                    "--console-socket", socketPath.toString(), id));
            ConsoleSocket.Received received = socket.receive(Duration.ofSeconds(30));
            master = received.fd();
            String createOut = finish(create);
            assertEquals(0, create.exitValue(), createOut);
            assertEquals("/dev/ptmx", received.name(), "runc names the pty master it sends");

            // it is a terminal master: sizes can be set, and the line discipline echoes input
            Linux.setWindowSize(master, 30, 90);
            assertEquals(new WindowSize(30, 90), Linux.getWindowSize(master));
            byte[] typed = "ping\n".getBytes(StandardCharsets.UTF_8);
            Linux.writeFully(master, typed, 0, typed.length);
            ByteArrayOutputStream echoed = new ByteArrayOutputStream();
            byte[] buf = new byte[64];
            while (!echoed.toString(StandardCharsets.UTF_8).contains("ping\r\n")) {
                int n = Linux.read(master, buf, 0, buf.length);
                if (n < 0) {
                    break;
                }
                echoed.write(buf, 0, n);
            }
            assertEquals("ping\r\n", echoed.toString(StandardCharsets.UTF_8));
        } finally {
            Linux.closeQuietly(master);
            Process delete = run(List.of("runc", "--root", root.toString(), "delete", "-f", id));
            finish(delete);
        }
    }
}
