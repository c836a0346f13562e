package dev.podvisor.hypervisor.clh;

import dev.podvisor.hypervisor.ChildProcesses;
import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.hypervisor.VmConfigs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A running cloud-hypervisor VMM. Launched as Kata does (Go {@code clh.go launchClh}, runtime-rs
 * {@code ch/inner_hypervisor.rs}): {@code <path> --api-socket <socket> [-v] [--seccomp false] [--log-file f]
 * [extra args]}, stdin from {@code /dev/null}, stdout + stderr appended to an output file, in its own session;
 * then the API socket is polled every 10 ms until a connect succeeds and {@code vmm.ping} answers.
 */
public final class CloudHypervisorProcess implements AutoCloseable {
    /** Poll interval while waiting for the API socket, in ms. */
    public static final long POLL_INTERVAL_MS = 10;

    /**
     * How to launch cloud-hypervisor.
     *
     * @param binary       the configured binary ({@code [hypervisor.clh] path})
     * @param apiSocket    the {@code --api-socket} path (removed first if a stale one exists)
     * @param outputFile   receives stdout and stderr (appended)
     * @param logFile      {@code --log-file} target, or null to let the VMM log to stderr
     * @param debug        adds {@code -v}
     * @param seccomp      false adds {@code --seccomp false}
     * @param extraArgs    further arguments, appended last
     * @param startTimeout bound of launching until {@code vmm.ping} answers (Kata Go: 10 s)
     * @param apiTimeout   call timeout of {@link #client()} (Kata Go: 1 s)
     */
    public record Options(Path binary, Path apiSocket, Path outputFile, Path logFile, boolean debug, boolean seccomp,
                          List<String> extraArgs, Duration startTimeout, Duration apiTimeout) {
        /** Checks required fields; copies the list. */
        public Options {
            Objects.requireNonNull(binary, "binary");
            Objects.requireNonNull(apiSocket, "apiSocket");
            Objects.requireNonNull(outputFile, "outputFile");
            Objects.requireNonNull(startTimeout, "startTimeout");
            Objects.requireNonNull(apiTimeout, "apiTimeout");
            extraArgs = extraArgs == null ? List.of() : List.copyOf(extraArgs);
        }

        /**
         * Options for a sandbox: API socket {@code <vmDir>/clh-api.sock}, output {@code <vmDir>/clh.log}, no
         * {@code --log-file}, debug and seccomp from the settings, start timeout 10 s, API timeout 10 s.
         *
         * @param settings the {@code [hypervisor.clh]} settings
         * @param vmDir    the sandbox's VM directory
         * @return the options
         */
        public static Options forSandbox(HypervisorSettings settings, Path vmDir) {
            return new Options(settings.path(), vmDir.resolve(VmConfigs.API_SOCKET), vmDir.resolve("clh.log"), null,
                    settings.debug(), settings.seccomp(), List.of(), Duration.ofSeconds(10), Duration.ofSeconds(10));
        }

        /** These options with another bound of the wait for {@code vmm.ping} (the shim derives it from dial_timeout). */
        public Options withStartTimeout(Duration timeout) {
            return new Options(binary, apiSocket, outputFile, logFile, debug, seccomp, extraArgs, timeout, apiTimeout);
        }

        /**
         * The argument vector these options produce.
         *
         * @return {@code [binary, --api-socket, socket, (-v), (--seccomp false), (--log-file f), extra...]}
         */
        public List<String> argv() {
            List<String> argv = new ArrayList<>();
            argv.add(binary.toString());
            argv.add("--api-socket");
            argv.add(apiSocket.toString());
            if (debug) {
                argv.add("-v");
            }
            if (!seccomp) {
                argv.add("--seccomp");
                argv.add("false");
            }
            if (logFile != null) {
                argv.add("--log-file");
                argv.add(logFile.toString());
            }
            argv.addAll(extraArgs);
            return List.copyOf(argv);
        }
    }

    private final Options options;
    private final Process process;
    private final CloudHypervisorClient client;
    private final VmmPingResponse ping;

    private CloudHypervisorProcess(Options options, Process process, CloudHypervisorClient client,
                                   VmmPingResponse ping) {
        this.options = options;
        this.process = process;
        this.client = client;
        this.ping = ping;
    }

    /**
     * Launches cloud-hypervisor and waits until its API answers {@code vmm.ping}.
     *
     * @param options how to launch it
     * @return the running VMM
     * @throws java.nio.file.NoSuchFileException   naming the configured binary if it does not exist (nothing is
     *                                             created then)
     * @throws java.nio.file.AccessDeniedException naming the binary if it is not executable
     * @throws IOException if the process exits early or its API does not answer within the start timeout (the
     *                     message holds the tail of its output); the process is killed and the API socket removed
     */
    public static CloudHypervisorProcess start(Options options) throws IOException {
        ChildProcesses.requireExecutable(options.binary(), "cloud-hypervisor binary ([hypervisor.clh] path)");
        Files.deleteIfExists(options.apiSocket());
        List<String> argv = options.argv();
        Process p = ChildProcesses.spawn(argv, options.outputFile());
        CloudHypervisorClient client = new CloudHypervisorClient(options.apiSocket(), options.apiTimeout());
        boolean ok = false;
        try {
            VmmPingResponse ping = awaitApi(options, p, client);
            ok = true;
            return new CloudHypervisorProcess(options, p, client, ping);
        } finally {
            if (!ok) {
                client.close();
                ChildProcesses.awaitOrKill(p, Duration.ZERO);
                Files.deleteIfExists(options.apiSocket());
            }
        }
    }

    private static VmmPingResponse awaitApi(Options o, Process p, CloudHypervisorClient client) throws IOException {
        long deadline = System.nanoTime() + o.startTimeout().toNanos();
        IOException last = null;
        boolean connected = false;
        while (true) {
            if (!p.isAlive()) {
                throw new IOException("cloud-hypervisor " + o.binary() + " exited with status " + p.exitValue()
                        + " before its API socket " + o.apiSocket() + " answered; output: "
                        + ChildProcesses.tail(o.outputFile(), 2000));
            }
            try {
                if (!connected) {
                    try (var ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                        ch.connect(UnixDomainSocketAddress.of(o.apiSocket()));
                    }
                    connected = true;
                }
                long left = deadline - System.nanoTime();
                if (left > 0) {
                    return client.withCallTimeout(Duration.ofNanos(left)).ping();
                }
            } catch (InterruptedIOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                last = e; // timeout of this ping
            } catch (IOException e) {
                last = e;
            }
            if (System.nanoTime() >= deadline) {
                IOException e = new IOException("cloud-hypervisor " + o.binary() + ": API socket " + o.apiSocket()
                        + " did not answer vmm.ping within " + o.startTimeout().toMillis() + " ms; output: "
                        + ChildProcesses.tail(o.outputFile(), 2000));
                e.initCause(last);
                throw e;
            }
            try {
                Thread.sleep(POLL_INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("waiting for cloud-hypervisor API " + o.apiSocket() + ": interrupted");
            }
        }
    }

    /** @return the VMM's process id */
    public long pid() {
        return process.pid();
    }

    /** @return the argument vector it was started with (without the {@code setsid} wrapper) */
    public List<String> argv() {
        return options.argv();
    }

    /** @return the options it was started with */
    public Options options() {
        return options;
    }

    /** @return the client of its API (call timeout {@link Options#apiTimeout()}) */
    public CloudHypervisorClient client() {
        return client;
    }

    /** @return the {@code vmm.ping} answer received at start */
    public VmmPingResponse version() {
        return ping;
    }

    /** @return the process handle, e.g. for {@code onExit()} */
    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** @return whether the process is still running */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Stops the VMM: {@code PUT vmm.shutdown} (Kata Go {@code clh.terminate}), bounded by {@code timeout}, then closes
     * the API connection and removes the API socket. Cloud Hypervisor answers only after it deleted the VM (vmm.rs:
     * {@code vmm_shutdown} runs {@code vm_delete}, which shuts the VM down), so once it answered only its exit is
     * left: the process is SIGKILLed and reaped at once rather than awaited (Kata's shim SIGKILLs the hypervisor on
     * {@code Shutdown} too). A VMM that refused or did not answer gets the rest of {@code timeout} to exit, then
     * SIGKILL; a dead one is only reaped. Safe to call more than once.
     *
     * @param timeout how long {@code vmm.shutdown} plus the wait may take before SIGKILL
     * @return true if the VMM shut down cleanly (it answered, or exited by itself), false if it had to be killed
     */
    public boolean shutdown(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean answered = false;
        if (process.isAlive()) {
            try {
                client.withCallTimeout(timeout.isZero() ? Duration.ofNanos(1) : timeout).shutdownVmm();
                answered = true;
            } catch (IOException e) {
                // refused or not answering: the wait below ends in SIGKILL
            }
        }
        client.close();
        Duration grace = answered ? Duration.ZERO : Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
        boolean exited = ChildProcesses.awaitOrKill(process, grace);
        try {
            Files.deleteIfExists(options.apiSocket());
        } catch (IOException ignored) {
            // the VM directory is removed by the sandbox anyway
        }
        return answered || exited;
    }

    /** Same as {@code shutdown(Duration.ofSeconds(3))} (Kata Go {@code clhStopSandboxTimeout}). */
    @Override
    public void close() {
        shutdown(Duration.ofSeconds(3));
    }
}
