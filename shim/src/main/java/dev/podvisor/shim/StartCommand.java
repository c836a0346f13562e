package dev.podvisor.shim;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code containerd-shim-kata-v2 ... start} (containerd: docs/runtime-v2.md "Start"): decides which daemon
 * serves the container (Kata's annotation grouping, {@link PodGrouping}), makes sure it is listening, writes
 * {@code address} (and {@code shim.pid} for a new daemon) in the bundle, and prints the plain
 * {@code unix://} address — the only form containerd 1.6 accepts and one every later version still reads.
 * Nothing goes to stderr on success: containerd reads stdout and stderr together.
 *
 * <p>containerd dials the printed address once, without retrying, so the socket listens before start prints:
 * start binds it and hands it to the daemon on fd 0 ({@link ShimSocket}), then prints without waiting for the
 * daemon's JVM; containerd's connection waits in the backlog until the daemon accepts it
 * (docs/decisions/0005-start-passes-the-listening-socket.md).
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
        if (grouping.kind() != PodGrouping.ContainerKind.POD_CONTAINER && !connectable(socket)) {
            ShimSocket.listenOnStdin(socket);
            long daemon;
            try {
                daemon = spawnDaemon(flags, bundle);
            } catch (RuntimeException e) {
                deleteQuietly(socket);
                throw e;
            }
            BundleFiles.write(bundle, BundleFiles.SHIM_PID, Long.toString(daemon));
        }
        BundleFiles.write(bundle, BundleFiles.ADDRESS, uri);
        stdout.print(uri);
        return 0;
    }

    /**
     * Re-runs this very JVM command line with the action dropped: same java, flags and class path, so the
     * daemon is what the launcher would have started. It is started as a shell's asynchronous command, the shell
     * printing its pid and exiting at once: a direct child of this JVM would keep the JDK's process reaper blocked
     * in {@code waitpid}, and HotSpot's exit waits up to 300 ms for threads in native code
     * (VM_Exit::wait_for_threads_in_native_to_block), which was most of {@code start}'s time. The daemon keeps
     * fd 0 (the listening socket) and stderr; as any asynchronous command of a non-interactive shell it starts
     * with SIGINT and SIGQUIT ignored (containerd stops shims with SIGKILL and the Shutdown call; HotSpot still
     * takes SIGQUIT for thread dumps).
     *
     * @return the daemon's pid
     * @throws UncheckedIOException when the daemon cannot be started (naming the command)
     */
    private static long spawnDaemon(ShimFlags flags, Path bundle) {
        // fd 0 is kept through fd 3: a shell starts an asynchronous command with stdin on /dev/null
        List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", "exec 3<&0; \"$@\" <&3 3<&- >/dev/null & echo $!", "sh"));
        ProcessHandle.Info self = ProcessHandle.current().info();
        String java = self.command().orElseThrow(() -> new IllegalStateException("cannot find this JVM's executable"));
        command.add(java);
        String[] jvmArgs = self.arguments().orElseThrow(() -> new IllegalStateException("cannot read this JVM's arguments"));
        command.addAll(daemonJvmArgs(jvmArgs, System.getProperty(DAEMON_AOT_CACHE)));
        command.addAll(flags.daemonArgs());
        ProcessBuilder builder = new ProcessBuilder(command).directory(bundle.toFile())
                .redirectInput(ProcessBuilder.Redirect.INHERIT); // fd 0: the listening socket
        Path log = bundle.resolve("log");
        // containerd holds the log FIFO open for reading, so the daemon's raw stderr (a JVM that cannot start)
        // reaches containerd's log too; without it (tests, by hand) stderr is discarded
        builder.redirectError(Files.exists(log) ? ProcessBuilder.Redirect.appendTo(log.toFile()) : ProcessBuilder.Redirect.DISCARD);
        try {
            Process spawner = builder.start();
            String pid;
            try (var out = spawner.getInputStream()) {
                pid = new String(out.readAllBytes(), StandardCharsets.US_ASCII).strip();
            }
            if (!pid.matches("[1-9][0-9]{0,9}")) {
                throw new IOException("no daemon pid from /bin/sh (exit status " + spawner.waitFor() + ", output '" + pid + "')");
            }
            return Long.parseLong(pid);
        } catch (IOException e) {
            throw new UncheckedIOException("starting the shim daemon " + java + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the shim daemon", e);
        }
    }

    /**
     * The system property naming the daemon's AOT cache, set by the launcher when {@code start} itself runs
     * with the small start/delete cache (scripts/setup.sh); empty means the daemon runs without a cache.
     */
    static final String DAEMON_AOT_CACHE = "podvisor.daemon.aot-cache";

    /**
     * The daemon's JVM arguments up to and including the main class: this JVM's, except that when
     * {@code daemonAotCache} is given (non-null) this JVM's {@code -XX:AOTCache=} and the property itself are
     * replaced by {@code -XX:AOTCache=<daemonAotCache>} (none when empty).
     */
    static List<String> daemonJvmArgs(String[] jvmArgs, String daemonAotCache) {
        int mainClass = indexOfMainClass(jvmArgs);
        List<String> args = new ArrayList<>();
        for (int i = 0; i <= mainClass; i++) {
            String arg = jvmArgs[i];
            if (daemonAotCache != null && (arg.startsWith("-XX:AOTCache=") || arg.startsWith("-D" + DAEMON_AOT_CACHE + "="))) {
                continue;
            }
            if (daemonAotCache != null && !daemonAotCache.isEmpty() && i == firstClassPathOption(jvmArgs, mainClass)) {
                args.add("-XX:AOTCache=" + daemonAotCache);
            }
            args.add(arg);
        }
        return args;
    }

    /** Where the added {@code -XX:AOTCache} goes: before the class path option, or before the main class. */
    private static int firstClassPathOption(String[] jvmArgs, int mainClass) {
        for (int i = 0; i < mainClass; i++) {
            if (jvmArgs[i].equals("-cp") || jvmArgs[i].equals("-classpath") || jvmArgs[i].equals("--class-path")
                    || jvmArgs[i].equals("-jar")) {
                return i;
            }
        }
        return mainClass;
    }

    static int indexOfMainClass(String[] jvmArgs) {
        for (int i = 0; i < jvmArgs.length; i++) {
            String arg = jvmArgs[i];
            if (arg.equals("-cp") || arg.equals("-classpath") || arg.equals("--class-path")
                    || arg.equals("--module-path") || arg.equals("-p") || arg.equals("--add-modules")) {
                i++;
                continue;
            }
            if (arg.equals("-jar")) {
                return i + 1;
            }
            if (!arg.startsWith("-")) {
                return i;
            }
        }
        throw new IllegalStateException("cannot find the main class in this JVM's arguments");
    }

    private static void deleteQuietly(Path socket) {
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // the spawn failure is what matters
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
