package dev.podvisor.testbed.guest;

import dev.podvisor.protocols.ttrpc.TtrpcClient;
import java.io.IOException;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Test side of one emulated VM: starts {@link GuestMain} as a real process under
 * {@code unshare --mount --propagation private --net} (as the cloud-hypervisor stand-in does; its own network
 * namespace, so the agent's network calls never touch the host's), plays the VMM on the
 * control socket and connects a ttrpc client to {@code <vm-dir>/guest-vsock/1024.sock} after boot.
 */
final class GuestHarness implements AutoCloseable {

    final Path vmDir;
    final Process process;
    private final Path output;
    private final SocketChannel controlChannel;
    private final OutputStream control;
    private TtrpcClient agent;

    private GuestHarness(Path vmDir, Process process, Path output, SocketChannel controlChannel) {
        this.vmDir = vmDir;
        this.process = process;
        this.output = output;
        this.controlChannel = controlChannel;
        this.control = Channels.newOutputStream(controlChannel);
    }

    /** Starts the guest for {@code vmDir} (created) and connects to its control socket. */
    static GuestHarness start(Path vmDir) throws Exception {
        Files.createDirectories(vmDir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path controlSocket = vmDir.resolve("guest-control.sock");
        Path output = vmDir.resolveSibling(vmDir.getFileName() + ".out");
        Process process = new ProcessBuilder("unshare", "--mount", "--propagation", "private", "--net", java,
                "--enable-native-access=ALL-UNNAMED", "-cp", classPath, GuestMain.class.getName(),
                "--vm-dir", vmDir.toString(), "--control", controlSocket.toString(),
                "--vsock-listen-dir", vmDir.resolve("guest-vsock").toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            return new GuestHarness(vmDir, process, output, connect(process, output, controlSocket));
        } catch (Exception e) {
            process.destroyForcibly();
            process.waitFor();
            throw e;
        }
    }

    /** Sends the boot event with one virtio-fs device {@code kataShared} over {@code sharedDir}, connects the agent. */
    TtrpcClient boot(Path sharedDir) throws Exception {
        send("{\"event\":\"boot\",\"fs\":[{\"tag\":\"kataShared\",\"sharedDir\":\"" + sharedDir + "\"}],"
                + "\"disks\":[],\"log\":\"" + vmDir.resolve("testbed.jsonl") + "\"}");
        agent = TtrpcClient.over(connect(process, output, vmDir.resolve("guest-vsock").resolve("1024.sock")));
        return agent;
    }

    /** Writes one JSON line on the control socket. */
    void send(String line) throws IOException {
        control.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        control.flush();
    }

    /** Closes the control connection (the VMM went away). */
    void closeControl() throws IOException {
        controlChannel.close();
    }

    /** What the guest printed. */
    String output() throws IOException {
        return Files.exists(output) ? Files.readString(output) : "";
    }

    /** Waits up to 60 s for the guest to exit and returns its exit status. */
    int awaitExit() throws Exception {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError("guest did not exit: " + output());
        }
        return process.exitValue();
    }

    /** Stops the guest (SIGTERM, then SIGKILL after 60 s) and closes the connections. */
    @Override
    public void close() throws IOException {
        if (agent != null) {
            agent.close();
        }
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        } finally {
            controlChannel.close();
        }
    }

    /** Connects to a unix socket the guest creates, waiting on the guest process while it is not there. */
    private static SocketChannel connect(Process process, Path output, Path socket) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                return channel;
            } catch (IOException e) {
                channel.close();
                if (System.nanoTime() > deadline || process.waitFor(50, TimeUnit.MILLISECONDS)) {
                    throw new IOException("guest did not listen on " + socket + ": "
                            + (Files.exists(output) ? Files.readString(output) : ""), e);
                }
            }
        }
    }

    /** A busybox rootfs at {@code rootfs}: /bin/busybox from Debian's busybox-static plus applet links. */
    static void rootfs(Path rootfs) throws IOException {
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
        bin.resolve("busybox").toFile().setExecutable(true);
        for (String applet : List.of("sh", "echo", "cat", "df", "sleep", "stty", "test", "stat")) {
            Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
        }
        for (String d : List.of("proc", "dev", "sys", "tmp", "data", "vol")) {
            Files.createDirectories(rootfs.resolve(d));
        }
    }

    /** Loop devices backed by {@code file} ({@code losetup -j}). */
    static List<String> loopsOf(Path file) throws Exception {
        Process p = new ProcessBuilder("losetup", "--noheadings", "--output", "NAME", "-j", file.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        List<String> loops = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                loops.add(line.strip());
            }
        }
        return loops;
    }

    /** Runs a command, requiring exit status 0. */
    static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new AssertionError(String.join(" ", argv) + ": " + out);
        }
    }

    /** Deletes {@code dir} recursively (after the guest is gone), detaching loops of files in it first. */
    static void deleteTree(Path dir) throws Exception {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                if (Files.isRegularFile(p) && p.toString().endsWith(".img")) {
                    for (String loop : loopsOf(p)) {
                        new ProcessBuilder("losetup", "-d", loop).start().waitFor();
                    }
                }
                Files.deleteIfExists(p);
            }
        }
    }
}
