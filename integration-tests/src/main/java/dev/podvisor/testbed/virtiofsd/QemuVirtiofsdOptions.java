package dev.podvisor.testbed.virtiofsd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * QEMU's C virtiofsd command line ({@code /usr/lib/qemu/virtiofsd}, QEMU 7.2, Debian's {@code qemu-system-common}),
 * parsed as that daemon's fuse_opt tables do, with its error texts, their order and exit status 1: valued long
 * options only as {@code --opt=value}, {@code -o a,b=c} or {@code -oa,b=c}, the FUSE flags {@code -f -d --syslog}.
 * A stray argument or a bad number fails at once; then a source that cannot be stat'ed (the source defaults to
 * {@code /}); then the unknown options, all in one message ({@code -o} ones first, joined by commas); then a missing
 * socket. The result is the same {@link VirtiofsdOptions} the Rust parser
 * gives ({@code cache} keeps the C daemon's name: none, auto or always).
 */
final class QemuVirtiofsdOptions {

    private static final Pattern UNSIGNED = Pattern.compile("[0-9]+");
    private static final Set<String> O_FLAGS = Set.of("flock", "no_flock", "posix_lock", "no_posix_lock",
            "readdirplus", "no_readdirplus", "writeback", "no_writeback", "xattr", "no_xattr", "allow_direct_io",
            "no_allow_direct_io", "announce_submounts", "posix_acl", "no_posix_acl", "security_label",
            "no_security_label", "killpriv_v2", "no_killpriv_v2", "allow_root", "debug");
    private static final Map<String, Pattern> O_VALUED = Map.of(
            "source", Pattern.compile(".+"),
            "cache", Pattern.compile("none|auto|always"),
            "log_level", Pattern.compile("debug|info|warn|err"),
            "sandbox", Pattern.compile("namespace|chroot"),
            "timeout", Pattern.compile("[0-9]+(\\.[0-9]*)?"),
            "max_idle_threads", UNSIGNED,
            "xattrmap", Pattern.compile(".+"),
            "modcaps", Pattern.compile(".+"));
    private static final Map<String, Pattern> LONG_VALUED = Map.of(
            "--socket-path", Pattern.compile(".+"),
            "--socket-group", Pattern.compile(".+"),
            "--fd", UNSIGNED,
            "--thread-pool-size", UNSIGNED,
            "--rlimit-nofile", UNSIGNED);

    private QemuVirtiofsdOptions() {
    }

    /**
     * Parses a C virtiofsd command line.
     *
     * @param args the arguments
     * @return the options
     * @throws VirtiofsdOptions.UsageException with the C daemon's message and exit status (1; 0 for help and version)
     */
    static VirtiofsdOptions parse(List<String> args) throws VirtiofsdOptions.UsageException {
        Set<String> flags = new LinkedHashSet<>();
        Map<String, String> values = new LinkedHashMap<>();
        List<String> unknownO = new java.util.ArrayList<>();
        List<String> unknown = new java.util.ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            switch (a) {
                case "-h", "--help" -> throw new VirtiofsdOptions.UsageException("usage: virtiofsd [options]\n\n"
                        + "    --socket-path=PATH  -o source=PATH  -o cache=<auto|always|none>  --thread-pool-size=NUM\n"
                        + "    (Podvisor testbed stand-in with QEMU's C virtiofsd command line)", 0);
                case "-V", "--version" -> throw new VirtiofsdOptions.UsageException(
                        "virtiofsd version 7.2 (Podvisor testbed stand-in)", 0);
                case "--print-capabilities" -> flags.add("print-capabilities");
                case "-f", "--syslog" -> flags.add(a.substring(a.lastIndexOf('-') + 1));
                case "-d" -> values.put("log_level", "debug");
                case "--daemonize" -> throw fuse("--daemonize is not supported by the testbed stand-in");
                default -> {
                    if (a.equals("-o") || (a.startsWith("-o") && !a.startsWith("--"))) {
                        String list = a.length() > 2 ? a.substring(2) : null;
                        if (list == null) {
                            if (i + 1 >= args.size()) {
                                throw fuse("missing argument after `-o'");
                            }
                            list = args.get(++i);
                        }
                        compat(list, flags, values, unknownO);
                    } else if (a.startsWith("--")) {
                        longOption(a, values, unknown);
                    } else if (a.startsWith("-")) {
                        unknown.add(a);
                    } else {
                        throw fuse("invalid argument `" + a + "'");
                    }
                }
            }
        }
        String source = values.remove("source");
        Path shared = Path.of(source == null ? "/" : source);
        String socket = values.remove("--socket-path");
        String fd = values.remove("--fd");
        if (flags.contains("print-capabilities")) {
            return new VirtiofsdOptions(shared, null, -1, "auto", "namespace", "none", "info", 0, Set.copyOf(flags),
                    Map.copyOf(values));
        }
        if (!Files.exists(shared)) {
            throw new VirtiofsdOptions.UsageException("failed to stat source (\"" + source + "\"): No such file or directory", 1);
        }
        if (!unknownO.isEmpty() || !unknown.isEmpty()) {
            List<String> all = new java.util.ArrayList<>();
            if (!unknownO.isEmpty()) {
                all.add("-o " + String.join(",", unknownO));
            }
            all.addAll(unknown);
            throw fuse("unknown option(s): `" + String.join(" ", all) + "'");
        }
        if (socket == null && fd == null) {
            throw fuse("missing --socket-path or --fd option");
        }
        String pool = values.remove("--thread-pool-size");
        return new VirtiofsdOptions(shared, socket == null ? null : Path.of(socket), fd == null ? -1 : Integer.parseInt(fd),
                values.getOrDefault("cache", "auto"), values.getOrDefault("sandbox", "namespace"), "none",
                values.getOrDefault("log_level", "info"), pool == null ? 0 : Long.parseLong(pool), Set.copyOf(flags),
                Map.copyOf(values));
    }

    private static void longOption(String a, Map<String, String> values, List<String> unknown)
            throws VirtiofsdOptions.UsageException {
        int eq = a.indexOf('=');
        String name = eq < 0 ? a : a.substring(0, eq);
        Pattern pattern = LONG_VALUED.get(name);
        if (pattern == null || eq < 0) {
            unknown.add(a);
            return;
        }
        String value = a.substring(eq + 1);
        if (!pattern.matcher(value).matches() || (pattern == UNSIGNED && value.length() > 9)) {
            throw fuse("invalid parameter in option `" + a + "'");
        }
        values.put(name, value);
    }

    private static void compat(String list, Set<String> flags, Map<String, String> values, List<String> unknown) {
        for (String option : list.split(",")) {
            if (option.isEmpty()) {
                continue;
            }
            int eq = option.indexOf('=');
            String key = eq < 0 ? option : option.substring(0, eq);
            if (eq < 0 && O_FLAGS.contains(key)) {
                flags.add(key);
                continue;
            }
            Pattern pattern = O_VALUED.get(key);
            if (pattern == null || eq < 0 || !pattern.matcher(option.substring(eq + 1)).matches()) {
                unknown.add(option);
                continue;
            }
            values.put(key, option.substring(eq + 1));
        }
    }

    private static VirtiofsdOptions.UsageException fuse(String message) {
        return new VirtiofsdOptions.UsageException("fuse: " + message, 1);
    }
}
