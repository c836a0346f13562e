package dev.podvisor.shim;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code containerd-shim-kata-v2}: the binary containerd runs for runtime {@code io.containerd.kata.v2}
 * (containerd: docs/runtime-v2.md). {@code start} makes sure a daemon serves the pod and prints its address
 * (for a new pod, the JVM of {@code start} goes on as its daemon, {@link StartCommand});
 * {@code delete} cleans up after a container whose daemon is gone and prints a DeleteResponse; no action runs
 * the daemon. Exit code 0 on success, 1 with one line on stderr (stdout for {@code start}) on failure (containerd
 * shows it).
 */
public final class ShimMain {

    private ShimMain() {
    }

    public static void main(String[] args) {
        PrintStream stdout = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        // start's errors go where its address would: the launcher reads this JVM's stdout (StartCommand)
        PrintStream errors = args.length > 0 && args[args.length - 1].equals("start") ? stdout : System.err;
        int code;
        try {
            code = run(List.of(args), System.getenv(), Path.of("").toAbsolutePath(), stdout);
        } catch (IllegalArgumentException | IllegalStateException e) {
            report(errors, "containerd-shim-kata-v2: " + e.getMessage());
            code = 1;
        } catch (RuntimeException e) {
            report(errors, "containerd-shim-kata-v2: " + e);
            code = 1;
        }
        stdout.flush();
        System.exit(code);
    }

    /** {@code line} on {@code errors}, or on stderr once {@code errors} is closed (a start gone on as the daemon). */
    private static void report(PrintStream errors, String line) {
        errors.println(line);
        if (errors.checkError()) {
            System.err.println(line);
        }
    }

    /**
     * Runs one invocation.
     *
     * @param cwd containerd runs the shim in the bundle directory
     * @return the process exit code
     */
    public static int run(List<String> args, Map<String, String> env, Path cwd, PrintStream stdout) {
        ShimFlags flags = ShimFlags.parse(args);
        if (flags.version()) {
            stdout.println("containerd-shim-kata-v2: " + TaskService.VERSION);
            return 0;
        }
        if (flags.info()) {
            stdout.write(RuntimeInfoCommand.runtimeInfo(), 0, RuntimeInfoCommand.runtimeInfo().length);
            return 0;
        }
        flags.requireTaskFlags();
        Path bundle = flags.bundle().isEmpty() ? cwd : Path.of(flags.bundle());
        return switch (flags.action()) {
            case "start" -> StartCommand.run(flags, env, bundle, stdout);
            case "delete" -> DeleteCommand.run(flags, env, bundle, stdout);
            case "" -> Daemon.run(flags, env, bundle);
            default -> throw new IllegalArgumentException("unknown action '" + flags.action()
                    + "': expected start, delete, or none for the daemon");
        };
    }
}
