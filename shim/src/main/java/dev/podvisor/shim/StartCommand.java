package dev.podvisor.shim;

import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code containerd-shim-kata-v2 ... start} (containerd: docs/runtime-v2.md "Start"): decides which daemon
 * serves the container (Kata's annotation grouping, {@link PodGrouping}), makes sure it is listening, writes
 * {@code address} (and {@code shim.pid} for a new daemon) in the bundle, and prints the plain
 * {@code unix://} address — the only form containerd 1.6 accepts and one every later version still reads.
 *
 * <p>The JVM that runs {@code start} for a new sandbox goes on as that sandbox's daemon
 * (docs/decisions/0009-start-goes-on-as-the-daemon.md): it binds the socket, prints the address, closes its
 * stdout and serves. containerd waits for the {@code start} process to exit and reads its output until the end
 * (Go's {@code exec.Cmd.CombinedOutput}), so the installed launcher (scripts/setup.sh) runs this JVM as an
 * asynchronous command whose stdout it reads to the end, hands the line on and exits. Run without the launcher,
 * {@code start} prints the address and keeps serving. Errors are one line on stdout, exit status 1: the launcher
 * tells them from an address by the {@code unix://} prefix and passes them to containerd on stderr.
 */
final class StartCommand {

    private StartCommand() {
    }

    /**
     * The refusal of a {@code start} whose bundle has no {@code config.json}: that is how containerd 2.x's sandbox
     * API starts a shim (a runtime with {@code sandboxer = "shim"}: containerd {@code plugins/sandbox/controller.go}
     * makes the bundle without a spec, starts the shim, then calls the {@code containerd.runtime.sandbox.v1.Sandbox}
     * ttrpc service, which this shim does not serve). The default {@code sandboxer = "podsandbox"} works with
     * containerd 1.6 to 2.x.
     */
    static String sandboxApiRefusal(Path bundle) {
        return "sandbox API not supported: bundle " + bundle + " has no config.json, as when containerd 2.x starts a"
                + " runtime with sandboxer = \"shim\"; configure the kata runtime with sandboxer = \"podsandbox\""
                + " (containerd's default)";
    }

    /**
     * Runs {@code start}: for a container whose daemon already listens (a pod's container, or a repeated start),
     * prints the address and returns 0; for a new sandbox, binds its socket, writes {@code shim.pid} (this JVM) and
     * {@code address}, prints the address, closes {@code stdout} and runs the daemon ({@link Daemon#run}) on that
     * listener, returning when the daemon exits.
     *
     * @throws IllegalArgumentException naming the flag or the bundle file that is missing or invalid
     * @throws java.io.UncheckedIOException naming the socket when it cannot be bound; nothing is left behind
     */
    static int run(ShimFlags flags, Map<String, String> env, Path bundle, PrintStream stdout) {
        if (flags.address().isEmpty()) {
            throw new IllegalArgumentException("flag -address: containerd's socket address is empty");
        }
        if (!Files.exists(bundle.resolve("config.json"))) {
            throw new IllegalArgumentException(sandboxApiRefusal(bundle));
        }
        PodGrouping.Grouping grouping = PodGrouping.classify(flags.id(), BundleFiles.annotations(bundle));
        Path socket = ShimAddress.socketPath(flags.address(), flags.namespace(), grouping.sandboxId());
        String uri = ShimAddress.uri(socket);
        if (grouping.kind() == PodGrouping.ContainerKind.POD_CONTAINER || connectable(socket)) {
            BundleFiles.write(bundle, BundleFiles.ADDRESS, uri);
            stdout.print(uri);
            return 0;
        }
        ServerSocketChannel listener = ShimSocket.bind(socket);
        try {
            BundleFiles.write(bundle, BundleFiles.SHIM_PID, Long.toString(ProcessHandle.current().pid()));
            BundleFiles.write(bundle, BundleFiles.ADDRESS, uri);
        } catch (RuntimeException e) {
            closeQuietly(listener);
            deleteQuietly(socket);
            throw e;
        }
        stdout.print(uri);
        // the end of the output for the launcher (the JDK puts /dev/null on fd 1): containerd gets the address now
        stdout.close();
        return Daemon.run(flags, env, bundle, listener);
    }

    private static void closeQuietly(ServerSocketChannel listener) {
        try {
            listener.close();
        } catch (IOException ignored) {
            // the first failure is what matters
        }
    }

    private static void deleteQuietly(Path socket) {
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the first failure is what matters
        }
    }

    static boolean connectable(Path socket) {
        if (!Files.exists(socket)) {
            return false;
        }
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
