package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.testbed.log.TestbedLog;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The cloud-hypervisor stand-in's side of the guest emulator (the "VM inside"): starts it on
 * {@code vm.boot} and sends it the device events of the testbed contract as JSON lines on its control
 * socket ({@code docs/architecture.md}, "Testbed contract").
 *
 * <p>The command is {@code unshare --mount --propagation slave --net <this JVM's java> <this JVM's flags> -cp
 * <this JVM's class path> dev.podvisor.testbed.guest.GuestMain --vm-dir <vm dir> --control <vm
 * dir>/guest-control.sock --vsock-listen-dir <vm dir>/guest-vsock}: the guest has its own network namespace
 * (holding only {@code lo} until the stand-in gives it NICs), as a VM has its own network stack. A different command prefix (whitespace
 * separated, the three {@code --vm-dir/--control/--vsock-listen-dir} options are still appended) can be given
 * by the system property {@value #GUEST_CMD_PROPERTY} or the environment variable {@value #GUEST_CMD_ENV};
 * tests use it to run a fake guest. The guest's stdout and stderr are appended to {@code <vm
 * dir>/guest.log}.
 */
public final class GuestLink implements AutoCloseable {
    /** Environment variable overriding the guest command prefix. */
    public static final String GUEST_CMD_ENV = "PODVISOR_TESTBED_GUEST_CMD";
    /** System property overriding the guest command prefix (wins over the environment). */
    public static final String GUEST_CMD_PROPERTY = "podvisor.testbed.guestCmd";
    /** The guest emulator's main class. */
    public static final String GUEST_MAIN = "dev.podvisor.testbed.guest.GuestMain";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final SocketChannel control;
    private final TestbedLog log;
    private volatile boolean stopping;

    private GuestLink(Process process, SocketChannel control, TestbedLog log) {
        this.process = process;
        this.control = control;
        this.log = log;
    }

    /**
     * The guest command without the per-VM options: the override when set, else {@code unshare ... GuestMain}
     * with this JVM's java, flags and class path.
     *
     * @return the command prefix
     */
    public static List<String> commandPrefix() {
        String override = System.getProperty(GUEST_CMD_PROPERTY);
        if (override == null || override.isBlank()) {
            override = System.getenv(GUEST_CMD_ENV);
        }
        return commandPrefix(override);
    }

    /**
     * @param override a whitespace-separated command prefix, or null/blank for the default
     * @return the command prefix
     */
    static List<String> commandPrefix(String override) {
        if (override != null && !override.isBlank()) {
            return List.of(override.trim().split("\\s+"));
        }
        List<String> cmd = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "slave", "--net"));
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!arg.startsWith("-agentlib") && !arg.startsWith("-javaagent")) {
                cmd.add(arg);
            }
        }
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(GUEST_MAIN);
        return cmd;
    }

    /**
     * Starts the guest emulator for the VM in {@code vmDir} and waits until its control socket accepts.
     *
     * @param vmDir   the VM directory (the API socket's directory)
     * @param log     the VM's testbed log
     * @param timeout how long to wait for the control socket
     * @return the connected link
     * @throws IOException if the guest cannot be started, exits early, or does not listen in time (the
     *                     process is killed then)
     */
    public static GuestLink start(Path vmDir, TestbedLog log, Duration timeout) throws IOException {
        Path controlSock = vmDir.resolve("guest-control.sock");
        Path listenDir = vmDir.resolve("guest-vsock");
        Files.createDirectories(listenDir);
        Files.deleteIfExists(controlSock);
        List<String> cmd = new ArrayList<>(commandPrefix());
        cmd.addAll(List.of("--vm-dir", vmDir.toString(), "--control", controlSock.toString(),
                "--vsock-listen-dir", listenDir.toString()));
        Path guestLog = vmDir.resolve("guest.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(guestLog.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("command", cmd);
        log.log("ch", "guest-start", f);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new IOException("guest emulator: cannot start " + cmd + ": " + e.getMessage(), e);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(controlSock)) {
                SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    c.connect(UnixDomainSocketAddress.of(controlSock));
                    GuestLink link = new GuestLink(p, c, log);
                    Thread.ofVirtual().name("ch-guest-control-reader").start(link::drain);
                    p.onExit().thenAccept(done -> {
                        if (!link.stopping) {
                            log.log("ch", "guest-exited", Map.of("pid", done.pid(), "exit", done.exitValue(),
                                    "expected", false));
                        }
                    });
                    log.log("ch", "guest-started", Map.of("pid", p.pid()));
                    return link;
                } catch (IOException notYet) {
                    c.close();
                }
            }
            if (!p.isAlive()) {
                throw new IOException("guest emulator exited with code " + p.exitValue() + " before listening on "
                        + controlSock + " (see " + guestLog + ")");
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("guest emulator did not listen on " + controlSock + " within "
                        + timeout.toMillis() + " ms (see " + guestLog + ")");
            }
            try {
                p.waitFor(20, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for the guest emulator");
            }
        }
    }

    private void drain() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Channels.newInputStream(control),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.log("ch", "guest-control-in", Map.of("line", line));
            }
        } catch (IOException ignored) {
            // the guest went away
        }
    }

    /**
     * Sends one control event as a JSON line.
     *
     * @param event the event object ({@code {"event":"add-disk",...}})
     * @return true when written, false when the guest is gone (logged)
     */
    public synchronized boolean send(Map<String, Object> event) {
        try {
            byte[] b = (JSON.writeValueAsString(event) + "\n").getBytes(StandardCharsets.UTF_8);
            ByteBuffer buf = ByteBuffer.wrap(b);
            while (buf.hasRemaining()) {
                control.write(buf);
            }
            log.log("ch", "guest-event", Map.of("event", event));
            return true;
        } catch (IOException e) {
            log.log("ch", "guest-event-lost", Map.of("event", event, "error", String.valueOf(e.getMessage())));
            return false;
        }
    }

    /** @return the guest process (for liveness checks) */
    public Process process() {
        return process;
    }

    /**
     * Stops the guest: sends {@code {"event":"shutdown"}}, waits up to {@code grace} for it to exit, then
     * SIGTERM and, 2 s later, SIGKILL.
     *
     * @param grace how long the guest may take to shut down by itself
     */
    public void stop(Duration grace) {
        stopping = true;
        if (process.isAlive()) {
            send(Map.of("event", "shutdown"));
        }
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(2, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try {
            control.close();
        } catch (IOException ignored) {
            // already gone
        }
        log.log("ch", "guest-stopped", Map.of("exit", process.isAlive() ? "running" : String.valueOf(process.exitValue())));
    }

    /** Same as {@link #stop(Duration)} with a 5 s grace period. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }
}
