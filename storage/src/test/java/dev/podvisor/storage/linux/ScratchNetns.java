package dev.podvisor.storage.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A private network namespace per test ({@code ip netns add podvisor-t-<random>}), made before each test and
 * deleted after it, failed or not: {@code @RegisterExtension final ScratchNetns ns = new ScratchNetns();}.
 */
final class ScratchNetns implements BeforeEachCallback, AfterEachCallback {

    final String name = "podvisor-t-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffL);
    final Path path = Path.of("/var/run/netns", name);

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        run("ip", "netns", "add", name);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        run("ip", "netns", "del", name);
    }

    /** Runs {@code ip -n <name> args...}, returning its output; fails on a non-zero exit. */
    String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of("ip", "-n", name));
        command.addAll(List.of(args));
        return run(command.toArray(String[]::new));
    }

    static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + ": exit " + p.exitValue() + ": " + out);
        }
        return out;
    }
}
