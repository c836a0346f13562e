package dev.podvisor.hypervisor.virtiofs;

import dev.podvisor.hypervisor.ChildProcesses;
import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.storage.virtiofs.SafeVirtiofsdArgs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A running virtiofsd serving one virtio-fs share. Started with the command line of its {@link VirtiofsdStyle}:
 * the Rust one as Kata runtime-rs does ({@code share_virtio_fs_standalone.rs}): {@code <virtiofsd> --socket-path
 * <sock> --shared-dir <dir> --cache <mode> <extra args>}, or QEMU's C one ({@code --socket-path=<sock> -o
 * source=<dir> -o cache=<mode> <extra args>}); stdin from {@code /dev/null}, output appended to a file, in
 * its own session; ready once the socket file exists. It must be started before the VMM that connects to it.
 */
public final class Virtiofsd implements AutoCloseable {
    /** Poll interval while waiting for the socket, in ms. */
    public static final long POLL_INTERVAL_MS = 10;

    /**
     * How to launch virtiofsd.
     *
     * @param binary       the configured binary ({@code virtio_fs_daemon})
     * @param socketPath   the vhost-user socket to create ({@code --socket-path}); a stale file there is removed
     * @param sharedDir    the directory to share ({@code --shared-dir}); must exist
     * @param cache        {@code --cache} mode: auto, always, metadata, never
     * @param extraArgs    appended after the fixed arguments (Kata default
     *                     {@link HypervisorSettings#DEFAULT_VIRTIO_FS_EXTRA_ARGS})
     * @param outputFile   receives stdout and stderr (appended)
     * @param startTimeout bound of the wait for the socket file
     * @param style        the command-line style of {@code binary}
     */
    public record Options(Path binary, Path socketPath, Path sharedDir, String cache, List<String> extraArgs,
                          Path outputFile, Duration startTimeout, VirtiofsdStyle style) {

        /** Options for the Rust virtiofsd. */
        public Options(Path binary, Path socketPath, Path sharedDir, String cache, List<String> extraArgs,
                       Path outputFile, Duration startTimeout) {
            this(binary, socketPath, sharedDir, cache, extraArgs, outputFile, startTimeout, VirtiofsdStyle.RUST);
        }

        /** Checks required fields; copies the list. */
        public Options {
            Objects.requireNonNull(style, "style");
            Objects.requireNonNull(binary, "binary");
            Objects.requireNonNull(socketPath, "socketPath");
            Objects.requireNonNull(sharedDir, "sharedDir");
            Objects.requireNonNull(cache, "cache");
            Objects.requireNonNull(outputFile, "outputFile");
            Objects.requireNonNull(startTimeout, "startTimeout");
            extraArgs = extraArgs == null ? List.of() : List.copyOf(extraArgs);
        }

        /** These options with another bound of the wait for the socket (the shim derives it from dial_timeout). */
        public Options withStartTimeout(Duration timeout) {
            return new Options(binary, socketPath, sharedDir, cache, extraArgs, outputFile, timeout, style);
        }

        /**
         * Options from the {@code [hypervisor.clh]} settings: binary, cache and extra args from there, start
         * timeout 10 s (a sandbox's comes from its configuration: {@link #withStartTimeout}).
         *
         * @param settings   the settings
         * @param socketPath the socket (see {@link dev.podvisor.hypervisor.VmConfigs#virtiofsdSocket})
         * @param sharedDir  the shared directory
         * @param outputFile the output file
         * @return the options
         */
        public static Options of(HypervisorSettings settings, Path socketPath, Path sharedDir, Path outputFile) {
            return new Options(settings.virtioFsDaemon(), socketPath, sharedDir, settings.virtioFsCache(),
                    settings.virtioFsExtraArgs(), outputFile, Duration.ofSeconds(10), settings.virtiofsdStyle());
        }

        /**
         * The argument vector these options produce.
         *
         * @return {@code [binary, <the style's own arguments>, extra...]}, e.g. for Rust {@code [binary,
         *         --socket-path, sock, --shared-dir, dir, --cache, mode, extra...]}
         */
        public List<String> argv() {
            List<String> argv = new ArrayList<>();
            argv.add(binary.toString());
            argv.addAll(style.ownArgs(socketPath, sharedDir, cache));
            argv.addAll(extraArgs);
            return List.copyOf(argv);
        }
    }

    private final Options options;
    private final Process process;

    private Virtiofsd(Options options, Process process) {
        this.options = options;
        this.process = process;
    }

    /**
     * Starts virtiofsd and waits until its socket file exists.
     *
     * @param options how to launch it
     * @return the running daemon
     * @throws NoSuchFileException naming the configured binary (or the shared directory) if it does not exist;
     *                             nothing is started or created then
     * @throws java.nio.file.AccessDeniedException naming the binary if it is not executable
     * @throws SafeVirtiofsdArgs.Refused for an extra argument outside the allow-list (nothing is started)
     * @throws IOException if it exits early or its socket does not appear within the start timeout (message with
     *                     the tail of its output); the process is killed
     */
    public static Virtiofsd start(Options options) throws IOException {
        ChildProcesses.requireExecutable(options.binary(), "virtiofsd binary ([hypervisor.clh] virtio_fs_daemon)");
        // the settings were checked where they were read; this is the last line before a command line
        SafeVirtiofsdArgs.check(options.extraArgs(), "virtiofsd " + options.socketPath().getFileName());
        if (!Files.isDirectory(options.sharedDir())) {
            throw new NoSuchFileException(options.sharedDir().toString(), null,
                    "virtiofsd --shared-dir: not an existing directory");
        }
        Files.deleteIfExists(options.socketPath());
        Process p = ChildProcesses.spawn(options.argv(), options.outputFile());
        boolean ok = false;
        try {
            long deadline = System.nanoTime() + options.startTimeout().toNanos();
            while (!Files.exists(options.socketPath())) {
                if (!p.isAlive()) {
                    throw new IOException("virtiofsd " + options.binary() + " exited with status " + p.exitValue()
                            + " before creating " + options.socketPath() + "; output: "
                            + ChildProcesses.tail(options.outputFile(), 2000));
                }
                if (System.nanoTime() >= deadline) {
                    throw new IOException("virtiofsd " + options.binary() + " did not create "
                            + options.socketPath() + " within " + options.startTimeout().toMillis() + " ms; output: "
                            + ChildProcesses.tail(options.outputFile(), 2000));
                }
                try {
                    Thread.sleep(POLL_INTERVAL_MS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("waiting for virtiofsd socket " + options.socketPath()
                            + ": interrupted");
                }
            }
            ok = true;
            return new Virtiofsd(options, p);
        } finally {
            if (!ok) {
                ChildProcesses.awaitOrKill(p, Duration.ZERO);
                Files.deleteIfExists(options.socketPath());
            }
        }
    }

    /** @return the argument vector it was started with (without the {@code setsid} wrapper) */
    public List<String> argv() {
        return options.argv();
    }

    /** @return the options it was started with */
    public Options options() {
        return options;
    }

    /** @return the vhost-user socket path */
    public Path socketPath() {
        return options.socketPath();
    }

    /** @return its process id */
    public long pid() {
        return process.pid();
    }

    /** The process itself (tests read its exit status). */
    Process process() {
        return process;
    }

    /** @return the process handle, e.g. for {@code onExit()} */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** @return whether it is still running (it exits by itself when its VMM disconnects) */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Stops it: SIGTERM (none when {@code grace} is zero), wait up to {@code grace}, then SIGKILL; removes the
     * socket file. Safe to call more than once.
     *
     * @param grace how long to wait after SIGTERM
     * @return true if it exited after SIGTERM (or had exited before), false if it had to be killed
     */
    public boolean stop(Duration grace) {
        if (process.isAlive() && grace.isPositive()) {
            process.destroy();
        }
        boolean exited = ChildProcesses.awaitOrKill(process, grace);
        try {
            Files.deleteIfExists(options.socketPath());
        } catch (IOException ignored) {
            // the VM directory is removed by the sandbox anyway
        }
        return exited;
    }

    /**
     * Stops it with SIGKILL (Kata Go {@code virtiofsd.go Stop}), waits for the exit and removes the socket file.
     * Safe to call more than once.
     */
    public void kill() {
        stop(Duration.ZERO);
    }

    /** Same as {@code stop(Duration.ofSeconds(1))}. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(1));
    }
}
