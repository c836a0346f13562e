package dev.podvisor.sandbox.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A pod netns per test, as the CNI bridge plugin leaves it: {@code ip netns add podvisor-t-<random>}, a veth
 * pair with {@code eth0} inside (address, MTU, default route), the peer in the host netns under a unique
 * name. Both are removed after the test, failed or not.
 */
public final class ScratchPodNetns implements BeforeEachCallback, AfterEachCallback {

    public final String suffix = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffL);
    public final String name = "podvisor-t-" + suffix;
    public final String hostPeer = "pvh" + suffix.substring(0, Math.min(8, suffix.length()));
    public final Path path = Path.of("/var/run/netns", name);

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        sh("ip", "netns", "add", name);
        sh("ip", "link", "add", hostPeer, "type", "veth", "peer", "name", "eth0", "netns", name);
        ip("link", "set", "eth0", "address", "02:42:0a:58:00:05", "mtu", "1400", "up");
        ip("addr", "add", "10.88.0.5/16", "dev", "eth0");
        ip("route", "add", "default", "via", "10.88.0.1", "dev", "eth0");
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            sh("ip", "netns", "del", name);
        } finally {
            if (sh(true, "ip", "link", "show", hostPeer).isEmpty()) {
                return;
            }
            sh(true, "ip", "link", "del", hostPeer);
        }
    }

    /** {@code ip -n <netns> args...}; fails on a non-zero exit. */
    public String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip", "-n", name));
        command.addAll(List.of(args));
        return sh(command.toArray(String[]::new));
    }

    /** {@code ip netns exec <netns> tc args...}. */
    public String tc(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", name, "tc"));
        command.addAll(List.of(args));
        return sh(command.toArray(String[]::new));
    }

    static String sh(String... command) throws IOException, InterruptedException {
        return sh(false, command);
    }

    /** Runs a command; with {@code lenient} a failure gives "" instead of an exception. */
    static String sh(boolean lenient, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            if (lenient) {
                return "";
            }
            throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + ": " + out);
        }
        return out;
    }
}
