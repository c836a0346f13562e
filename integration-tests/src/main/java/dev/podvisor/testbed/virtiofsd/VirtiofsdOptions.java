package dev.podvisor.testbed.virtiofsd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Rust virtiofsd (v1.13, the version Kata pins) command line, parsed like its clap definition: long flags
 * as {@code --flag value} or {@code --flag=value}, boolean flags without values, the legacy
 * {@code -o opt[,opt...]}, {@code -f} and {@code -d} compatibility options (protocols.md §5).
 *
 * @param sharedDir        {@code --shared-dir} or {@code -o source=}
 * @param socketPath       {@code --socket-path} (or its old alias {@code --socket}); null with {@code --fd}
 * @param fd               {@code --fd}: an inherited listening socket; -1 when not given
 * @param cache            auto | always | metadata | never (default auto)
 * @param sandbox          namespace | chroot | none (default namespace)
 * @param seccomp          none | kill | log | trap (default kill)
 * @param logLevel         error | warn | info | debug | trace | off (default info)
 * @param threadPoolSize   {@code --thread-pool-size} (default 0)
 * @param flags            boolean options that were set (e.g. {@code announce-submounts}, {@code xattr})
 * @param values           other valued options as given (e.g. {@code rlimit-nofile}, {@code modcaps})
 */
public record VirtiofsdOptions(Path sharedDir, Path socketPath, int fd, String cache, String sandbox,
                               String seccomp, String logLevel, long threadPoolSize, Set<String> flags,
                               Map<String, String> values) {

    /** A command-line error with the text to print and the exit code (2 for clap usage errors, 0 for help). */
    public static final class UsageException extends Exception {
        private final int exitCode;

        /** @param message text @param exitCode exit code */
        public UsageException(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }

        /** @return the process exit code */
        public int exitCode() {
            return exitCode;
        }
    }

    private static final Set<String> BOOL_FLAGS = Set.of("xattr", "posix-acl", "announce-submounts",
            "allow-direct-io", "writeback", "killpriv-v2", "no-killpriv-v2", "security-label", "no-readdirplus",
            "readdirplus", "syslog", "readonly", "print-capabilities", "allow-mmap", "preserve-noatime",
            "no-announce-submounts", "migration-confirm-paths", "inode-file-handles-auto");
    private static final Set<String> VALUE_FLAGS = Set.of("shared-dir", "tag", "socket-path", "socket",
            "socket-group", "fd", "thread-pool-size", "xattrmap", "sandbox", "seccomp", "inode-file-handles",
            "cache", "log-level", "rlimit-nofile", "modcaps", "uid-map", "gid-map", "translate-uid",
            "translate-gid", "migration-mode", "migration-on-error", "migration-verify-handles");
    private static final Map<String, List<String>> ENUMS = Map.of(
            "cache", List.of("auto", "always", "metadata", "never"),
            "sandbox", List.of("namespace", "chroot", "none"),
            "seccomp", List.of("none", "kill", "log", "trap"),
            "log-level", List.of("error", "warn", "info", "debug", "trace", "off"),
            "inode-file-handles", List.of("never", "prefer", "mandatory"));
    private static final Set<String> NUMERIC = Set.of("fd", "thread-pool-size", "rlimit-nofile");
    private static final Set<String> COMPAT_BOOL = Set.of("xattr", "no_xattr", "flock", "no_flock", "posix_lock",
            "no_posix_lock", "readdirplus", "no_readdirplus", "writeback", "no_writeback", "allow_direct_io",
            "no_allow_direct_io", "announce_submounts", "killpriv_v2", "no_killpriv_v2", "posix_acl",
            "no_posix_acl", "security_label", "no_security_label", "norace");
    private static final Set<String> COMPAT_VALUE = Set.of("source", "cache", "timeout", "log_level", "sandbox",
            "modcaps", "xattrmap");

    /**
     * Parses a virtiofsd command line.
     *
     * @param args the arguments
     * @return the options
     * @throws UsageException on an unknown flag, a bad value, a missing value or a missing required option
     *                        (the message is the error text), or for {@code --help}/{@code --version} (exit 0)
     */
    public static VirtiofsdOptions parse(List<String> args) throws UsageException {
        Path sharedDir = null;
        Path socketPath = null;
        int fd = -1;
        String cache = "auto";
        String sandbox = "namespace";
        String seccomp = "kill";
        String logLevel = "info";
        long pool = 0;
        Set<String> flags = new java.util.LinkedHashSet<>();
        Map<String, String> values = new java.util.LinkedHashMap<>();
        List<String> compat = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-h") || a.equals("--help")) {
                throw new UsageException("virtiofsd (Podvisor testbed stand-in)\n\nUsage: virtiofsd [OPTIONS]\n\n"
                        + "Options: --shared-dir <DIR> --socket-path <PATH> | --fd <FD> --cache <auto|always|metadata|never>\n"
                        + "         --sandbox <namespace|chroot|none> --thread-pool-size <N> --announce-submounts --xattr\n"
                        + "         --posix-acl --syslog --seccomp <none|kill|log|trap> --log-level <LEVEL> -o <OPTS> -f -d", 0);
            }
            if (a.equals("-V") || a.equals("--version")) {
                throw new UsageException("virtiofsd 1.13.0", 0);
            }
            if (a.equals("-f")) {
                continue; // foreground: always
            }
            if (a.equals("-d")) {
                logLevel = "debug";
                continue;
            }
            if (a.equals("-o") || a.startsWith("-o")) {
                String v = a.length() > 2 ? a.substring(2) : null;
                if (v == null) {
                    if (i + 1 >= args.size()) {
                        throw missingValue("-o <compat-options>");
                    }
                    v = args.get(++i);
                }
                compat.add(v);
                continue;
            }
            if (!a.startsWith("--") || a.length() == 2) {
                throw unexpected(a);
            }
            String name = a.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (BOOL_FLAGS.contains(name)) {
                if (value != null) {
                    throw new UsageException("error: unexpected value '" + value + "' for '--" + name
                            + "' found; no more were expected\n\nUsage: virtiofsd [OPTIONS]\n\nFor more information, try '--help'.", 2);
                }
                flags.add(name);
                continue;
            }
            if (!VALUE_FLAGS.contains(name)) {
                throw unexpected(a);
            }
            if (value == null) {
                if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
                    throw missingValue("--" + name + " <" + name.toUpperCase().replace('-', '_') + ">");
                }
                value = args.get(++i);
            }
            if (ENUMS.containsKey(name) && !ENUMS.get(name).contains(value)) {
                throw new UsageException("error: invalid value '" + value + "' for '--" + name + " <"
                        + name.toUpperCase().replace('-', '_') + ">'\n  [possible values: "
                        + String.join(", ", ENUMS.get(name)) + "]\n\nFor more information, try '--help'.", 2);
            }
            long number = 0;
            if (NUMERIC.contains(name)) {
                try {
                    number = Long.parseLong(value);
                    if (number < 0) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException e) {
                    throw new UsageException("error: invalid value '" + value + "' for '--" + name + " <"
                            + name.toUpperCase().replace('-', '_') + ">': invalid digit found in string\n\n"
                            + "For more information, try '--help'.", 2);
                }
            }
            switch (name) {
                case "shared-dir" -> sharedDir = Path.of(value);
                case "socket-path", "socket" -> socketPath = Path.of(value);
                case "fd" -> {
                    if (number > Integer.MAX_VALUE) {
                        throw new UsageException("error: invalid value '" + value + "' for '--fd <FD>': number too large", 2);
                    }
                    fd = (int) number;
                }
                case "cache" -> cache = value;
                case "sandbox" -> sandbox = value;
                case "seccomp" -> seccomp = value;
                case "log-level" -> logLevel = value;
                case "thread-pool-size" -> pool = number;
                default -> values.put(name, value);
            }
        }
        for (String group : compat) {
            for (String opt : group.split(",")) {
                if (opt.isEmpty()) {
                    continue;
                }
                int eq = opt.indexOf('=');
                String key = eq < 0 ? opt : opt.substring(0, eq);
                String val = eq < 0 ? null : opt.substring(eq + 1);
                if (val == null && COMPAT_BOOL.contains(key)) {
                    if (!key.startsWith("no_")) {
                        flags.add(key.replace('_', '-'));
                    } else {
                        flags.remove(key.substring(3).replace('_', '-'));
                    }
                } else if (val != null && COMPAT_VALUE.contains(key)) {
                    switch (key) {
                        case "source" -> sharedDir = Path.of(val);
                        case "cache" -> {
                            if (!ENUMS.get("cache").contains(val)) {
                                throw new UsageException("Error: invalid cache policy '" + val + "' in -o cache=", 1);
                            }
                            cache = val;
                        }
                        case "log_level" -> logLevel = val;
                        case "sandbox" -> sandbox = val;
                        default -> values.put(key, val);
                    }
                } else {
                    throw new UsageException("Error: Invalid compat argument '" + opt + "' found", 1);
                }
            }
        }
        if (socketPath != null && fd >= 0) {
            throw new UsageException("error: the argument '--socket-path <SOCKET_PATH>' cannot be used with '--fd <FD>'\n\n"
                    + "Usage: virtiofsd [OPTIONS]\n\nFor more information, try '--help'.", 2);
        }
        if (!flags.contains("print-capabilities")) {
            if (sharedDir == null) {
                throw new UsageException("Error: missing shared directory: use --shared-dir <DIR> (or -o source=<DIR>)", 1);
            }
            if (socketPath == null && fd < 0) {
                throw new UsageException("Error: missing vhost-user socket: use --socket-path <PATH> or --fd <FD>", 1);
            }
        }
        return new VirtiofsdOptions(sharedDir, socketPath, fd, cache, sandbox, seccomp, logLevel, pool,
                Set.copyOf(flags), Map.copyOf(values));
    }

    private static UsageException unexpected(String arg) {
        return new UsageException("error: unexpected argument '" + arg + "' found\n\nUsage: virtiofsd [OPTIONS]\n\n"
                + "For more information, try '--help'.", 2);
    }

    private static UsageException missingValue(String what) {
        return new UsageException("error: a value is required for '" + what + "' but none was supplied\n\n"
                + "For more information, try '--help'.", 2);
    }
}
