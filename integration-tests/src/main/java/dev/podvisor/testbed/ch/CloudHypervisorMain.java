package dev.podvisor.testbed.ch;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * {@code cloud-hypervisor} command line of the stand-in (run through {@code integration-tests/bin/cloud-hypervisor}).
 *
 * <p>Accepts the flags Kata's runtimes pass (protocols.md §5 "How Kata sequences it"), parsed the way CH's
 * clap definition does ({@code --flag value} and {@code --flag=value}):
 * <ul>
 *   <li>{@code --api-socket <path>}, {@code --api-socket path=<path>} or {@code --api-socket fd=<n>} (an
 *       inherited listening unix socket, served through FFM system calls; the VM directory is the directory
 *       of the path it is bound to);</li>
 *   <li>{@code -v} (repeatable, also {@code -vv}), {@code --seccomp true|false|log}, {@code --log-file <file>};</li>
 *   <li>{@code -V}/{@code --version} prints {@code cloud-hypervisor v53.0.0}, {@code -h}/{@code --help} the usage.</li>
 * </ul>
 * Other real CH options that configure a VM from the command line ({@code --kernel}, {@code --cpus}, ...) are
 * refused with exit 1 and "not supported by the testbed"; anything else is refused like clap does:
 * {@code error: unexpected argument '--foo' found} and exit code 2 (clap's usage-error code, which the real
 * binary returns).
 */
public final class CloudHypervisorMain {
    private CloudHypervisorMain() {
    }

    /**
     * The parsed command line.
     *
     * @param apiSocket the API socket path (null when none was given or {@code fd=} was used)
     * @param apiFd     the inherited listening API socket descriptor from {@code fd=<n>}, or -1
     * @param verbosity number of {@code -v}
     * @param seccomp   {@code true}, {@code false} or {@code log}
     * @param logFile   the {@code --log-file} or null
     */
    public record CommandLine(Path apiSocket, int apiFd, int verbosity, String seccomp, Path logFile) {
    }

    /** A command-line error: the message to print and the exit code. */
    public static final class UsageException extends Exception {
        private final int exitCode;

        /** @param message printed on stderr @param exitCode process exit code */
        public UsageException(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        /** @return the exit code */
        public int exitCode() {
            return exitCode;
        }
    }

    private static final String USAGE = "Usage: cloud-hypervisor [OPTIONS]";

    private static final Set<String> REAL_BUT_UNSUPPORTED = Set.of("--cpus", "--platform", "--memory",
            "--memory-zone", "--firmware", "--kernel", "--initramfs", "--cmdline", "--rate-limit-group", "--disk",
            "--net", "--rng", "--balloon", "--fs", "--pmem", "--serial", "--console", "--device", "--user-device",
            "--vdpa", "--vsock", "--pvpanic", "--numa", "--pci-segment", "--watchdog", "--net-fds", "--restore",
            "--sgx-epc", "--tpm", "--igvm", "--host-data", "--landlock", "--landlock-rules", "--event-monitor",
            "--gdb", "--debug-console", "--hypervisor");

    /**
     * Parses the arguments.
     *
     * @param args the command line
     * @return the parsed form
     * @throws UsageException for an unknown, unsupported or malformed argument (exit 2 for clap-style usage
     *                        errors, 1 for options the testbed does not support), or for {@code --help} /
     *                        {@code --version} (exit 0, the message is the text to print on stdout)
     */
    public static CommandLine parse(List<String> args) throws UsageException {
        Path api = null;
        int apiFd = -1;
        int verbosity = 0;
        String seccomp = "true";
        Path logFile = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String name = a;
            String value = null;
            if (a.startsWith("--") && a.contains("=")) {
                name = a.substring(0, a.indexOf('='));
                value = a.substring(a.indexOf('=') + 1);
            }
            switch (name) {
                case "-h", "--help" -> throw new UsageException("Launch a cloud-hypervisor VMM (Podvisor testbed stand-in).\n\n"
                        + USAGE + "\n\nOptions:\n      --api-socket <api-socket>  HTTP API socket (UNIX domain socket): path=</path/to/a/file> or fd=<fd>.\n"
                        + "  -v...                          Sets the level of debugging output\n"
                        + "      --log-file <log-file>      Log file. Standard error is used if not specified\n"
                        + "      --seccomp <seccomp>        Libseccomp filter: true|false|log [default: true]\n"
                        + "  -h, --help                     Print help\n  -V, --version                  Print version", 0);
                case "-V", "--version" -> throw new UsageException("cloud-hypervisor v53.0.0", 0);
                case "--api-socket" -> {
                    if (value == null) {
                        value = next(args, ++i, a);
                    }
                    if (value.startsWith("fd=")) {
                        try {
                            apiFd = Integer.parseInt(value.substring(3));
                            if (apiFd < 0) {
                                throw new NumberFormatException();
                            }
                        } catch (NumberFormatException e) {
                            throw new UsageException("Error parsing --api-socket: invalid fd in '" + value + "'", 1);
                        }
                        api = null;
                    } else {
                        api = parseApiSocket(value);
                        apiFd = -1;
                    }
                }
                case "--seccomp" -> {
                    if (value == null) {
                        value = next(args, ++i, a);
                    }
                    if (!List.of("true", "false", "log").contains(value)) {
                        throw new UsageException("Error parsing --seccomp: invalid value '" + value
                                + "' (expected true, false or log)", 1);
                    }
                    seccomp = value;
                }
                case "--log-file" -> {
                    if (value == null) {
                        value = next(args, ++i, a);
                    }
                    logFile = Path.of(value);
                }
                default -> {
                    if (a.matches("-v+")) {
                        verbosity += a.length() - 1;
                    } else if (REAL_BUT_UNSUPPORTED.contains(name)) {
                        throw new UsageException("cloud-hypervisor (testbed): option '" + name
                                + "' is not supported by the testbed; create the VM through the API", 1);
                    } else {
                        throw new UsageException("error: unexpected argument '" + a + "' found\n\n" + USAGE
                                + "\n\nFor more information, try '--help'.", 2);
                    }
                }
            }
        }
        return new CommandLine(api, apiFd, verbosity, seccomp, logFile);
    }

    private static String next(List<String> args, int i, String flag) throws UsageException {
        if (i >= args.size() || (args.get(i).startsWith("-") && args.get(i).length() > 1)) {
            throw new UsageException("error: a value is required for '" + flag + " <" + flag.substring(2)
                    + ">' but none was supplied\n\nFor more information, try '--help'.", 2);
        }
        return args.get(i);
    }

    private static Path parseApiSocket(String v) throws UsageException {
        String p = v.startsWith("path=") ? v.substring("path=".length()) : v;
        if (p.contains(",") || p.contains("=") && !v.startsWith("path=")) {
            throw new UsageException("Error parsing --api-socket: unknown parameter in '" + v + "'", 1);
        }
        if (p.isEmpty()) {
            throw new UsageException("Error parsing --api-socket: path is empty", 1);
        }
        return Path.of(p);
    }

    /**
     * Runs the stand-in until {@code vmm.shutdown}, SIGTERM or the API socket's directory vanishing.
     *
     * @param args the command line (see the class docstring)
     */
    public static void main(String[] args) {
        CommandLine cl;
        try {
            cl = parse(List.of(args));
        } catch (UsageException e) {
            (e.exitCode() == 0 ? System.out : System.err).println(e.getMessage());
            System.exit(e.exitCode());
            return;
        }
        PrintStream diag = System.err;
        if (cl.logFile() != null) {
            try {
                diag = new PrintStream(Files.newOutputStream(cl.logFile(), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND), true, StandardCharsets.UTF_8);
            } catch (IOException e) {
                System.err.println("Error: failed to open log file " + cl.logFile() + ": " + e.getMessage());
                System.exit(1);
                return;
            }
        }
        if (cl.apiSocket() == null && cl.apiFd() < 0) {
            // The real VMM would run a VM from command-line options; without --api-socket there is nothing to serve.
            System.err.println("cloud-hypervisor (testbed): --api-socket is required by the testbed");
            System.exit(1);
            return;
        }
        CloudHypervisorStandIn ch;
        try {
            ch = cl.apiFd() >= 0
                    ? CloudHypervisorStandIn.startOnFd(cl.apiFd(), CloudHypervisorStandIn.Options.defaults())
                    : CloudHypervisorStandIn.start(cl.apiSocket(), CloudHypervisorStandIn.Options.defaults());
        } catch (IOException e) {
            diag.println("Error: " + e.getMessage());
            System.exit(1);
            return;
        }
        if (cl.verbosity() > 0) {
            diag.println("cloud-hypervisor: " + Instant.now() + ": INFO: testbed stand-in " + CloudHypervisorStandIn.VERSION
                    + " serving " + ch.vmDir() + " (api " + (cl.apiFd() >= 0 ? "fd=" + cl.apiFd() : cl.apiSocket())
                    + ", seccomp " + cl.seccomp() + ")");
        }
        Runtime.getRuntime().addShutdownHook(new Thread(ch::close, "ch-sigterm"));
        try {
            while (!ch.awaitExit(Duration.ofHours(1))) {
                // keep serving
            }
        } catch (InterruptedException e) {
            ch.close();
        }
        if (cl.verbosity() > 0) {
            diag.println("cloud-hypervisor: " + Instant.now() + ": INFO: VMM exiting");
        }
        System.exit(0);
    }
}
