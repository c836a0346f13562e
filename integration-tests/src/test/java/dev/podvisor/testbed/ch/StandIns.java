package dev.podvisor.testbed.ch;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Test support: runs the stand-ins as real processes through {@code integration-tests/bin/}, with the test
 * class path ({@code PODVISOR_TESTBED_CLASSPATH}) so that unit tests need no packaged jar, and with
 * {@link FakeGuest} as the guest emulator ({@code PODVISOR_TESTBED_GUEST_CMD}).
 */
public final class StandIns {
    private StandIns() {
    }

    /** A finished short-lived process. @param exit exit code @param stdout text @param stderr text */
    public record Result(int exit, String stdout, String stderr) {
    }

    /** @return the test JVM's class path (surefire's full class path when available) */
    public static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /** @return the java binary running the tests */
    public static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** @param name {@code cloud-hypervisor} or {@code virtiofsd} @return the launcher script */
    public static Path bin(String name) {
        String base = System.getProperty("basedir");
        Path dir = base != null ? Path.of(base, "bin") : Path.of("bin");
        return dir.toAbsolutePath().resolve(name);
    }

    /**
     * @param tool launcher name
     * @param args its arguments
     * @param log  file receiving stdout and stderr
     * @return a builder with the test environment
     */
    public static ProcessBuilder builder(String tool, List<String> args, Path log) {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin(tool).toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PODVISOR_TESTBED_CLASSPATH", classPath());
        pb.environment().put("PODVISOR_JAVA", java());
        pb.environment().put("PODVISOR_TESTBED_GUEST_CMD", java() + " -XX:+UseSerialGC -Xmx32m -XX:TieredStopAtLevel=1 -cp "
                + classPath() + " " + FakeGuest.class.getName());
        pb.redirectErrorStream(true);
        if (log != null) {
            pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        }
        pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        return pb;
    }

    /**
     * Runs a launcher to completion.
     *
     * @param tool launcher name
     * @param args arguments
     * @return exit code and output
     * @throws Exception on failure or after 60 s
     */
    public static Result run(String tool, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(bin(tool).toString());
        cmd.addAll(args);
        ProcessBuilder pb = builder(tool, args, null);
        pb.redirectErrorStream(false);
        Process p = pb.start();
        byte[][] streams = new byte[2][];
        Thread o = Thread.ofVirtual().start(() -> streams[0] = readAll(p.getInputStream()));
        Thread e = Thread.ofVirtual().start(() -> streams[1] = readAll(p.getErrorStream()));
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(cmd + " did not finish in 60 s");
        }
        o.join();
        e.join();
        return new Result(p.exitValue(), new String(streams[0], StandardCharsets.UTF_8),
                new String(streams[1], StandardCharsets.UTF_8));
    }

    private static byte[] readAll(java.io.InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            return new byte[0];
        }
    }

    /**
     * Waits until {@code condition} holds, failing early when {@code process} died.
     *
     * @param what      description for the failure message
     * @param condition the condition
     * @param process   a process that must stay alive meanwhile (or null)
     * @param timeout   upper bound
     * @throws Exception when the condition does not hold in time
     */
    public static void await(String what, BooleanSupplier condition, Process process, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Object monitor = new Object();
        while (!condition.getAsBoolean()) {
            if (process != null && !process.isAlive()) {
                throw new AssertionError(what + ": process exited with " + process.exitValue());
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not within " + timeout.toMillis() + " ms");
            }
            if (process != null) {
                process.waitFor(20, TimeUnit.MILLISECONDS);
            } else {
                synchronized (monitor) {
                    monitor.wait(20);
                }
            }
        }
    }

    /** @param socket a unix socket path @return true when something accepts connections there */
    public static boolean accepts(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Stops a process if still running (test cleanup).
     *
     * @param p the process or null
     */
    public static void kill(Process p) {
        if (p == null) {
            return;
        }
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The shim's hybrid vsock dial to the agent: {@code CONNECT 1024\n}, one {@code OK <port>\n} line, then the
     * connection carries ttrpc; retried (the guest comes up after {@code vm.boot} answered) until 60 s.
     *
     * @param hybridVsock the VM's {@code vsock.socket}
     * @param ch          the stand-in process (must stay alive)
     * @param guestLog    shown when the guest never listens
     * @return the connected channel
     * @throws Exception when the guest does not listen in time
     */
    public static SocketChannel dialAgent(Path hybridVsock, Process ch, Path guestLog) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(hybridVsock));
            channel.write(java.nio.ByteBuffer.wrap("CONNECT 1024\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
            java.nio.ByteBuffer one = java.nio.ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                if (channel.read(one) <= 0 || one.get(0) == '\n') {
                    break;
                }
                line.write(one.get(0));
            }
            if (line.toString(java.nio.charset.StandardCharsets.US_ASCII).startsWith("OK ")) {
                return channel;
            }
            channel.close();
            if (System.nanoTime() > deadline || ch.waitFor(20, TimeUnit.MILLISECONDS)) {
                throw new AssertionError("the guest never listened on vsock port 1024: "
                        + (Files.exists(guestLog) ? Files.readString(guestLog) : "(no guest log)"));
            }
        }
    }
}
