package dev.podvisor.storage.virtiofs;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The virtiofsd options a user may set ({@code virtio_fs_extra_args}, {@code extra_virtiofs}, from configuration or
 * annotations): an allow-list of the Rust virtiofsd's tuning options (virtiofsd {@code --help}, 1.x). Everything
 * else is refused with a {@link Refused} naming the setting and the token — in particular the options the shim owns
 * or that widen what the guest reaches on the host: {@code --shared-dir}, {@code --socket-path}/{@code --socket},
 * {@code --fd}, {@code --socket-group}, {@code --tag}, {@code --sandbox}, {@code --seccomp}, {@code --modcaps},
 * {@code --uid-map}/{@code --gid-map}/{@code --translate-uid}/{@code --translate-gid}, {@code --xattrmap},
 * {@code --readonly}, {@code --print-capabilities}, {@code --migration-*}, and any {@code -o} option outside the
 * list below ({@code -o source=} first of all). Without this check, {@code --shared-dir=/} in an annotation made the
 * VM's share the host's {@code /} (issue 8, case 5).
 *
 * <p>Allowed, with {@code --opt=value} or {@code --opt value} spelling: {@code --thread-pool-size=N},
 * {@code --cache=auto|always|never|metadata}, {@code --inode-file-handles=never|prefer|mandatory},
 * {@code --log-level=error|warn|info|debug|trace|off}, {@code --rlimit-nofile=N}; flags {@code --xattr},
 * {@code --posix-acl}, {@code --announce-submounts}, {@code --allow-direct-io}, {@code --writeback},
 * {@code --no-readdirplus}, {@code --killpriv-v2}, {@code --no-killpriv-v2}, {@code --security-label},
 * {@code --preserve-noatime}, {@code --allow-mmap}, {@code --syslog}, {@code -d}/{@code --debug}; and
 * {@code -o} with a comma list of {@code xattr no_xattr flock no_flock posix_lock no_posix_lock writeback
 * no_writeback readdirplus no_readdirplus announce_submounts allow_direct_io killpriv_v2 no_killpriv_v2
 * no_open cache=<mode> timeout=N log_level=<level>}.
 *
 * <p>The same list serves QEMU's C virtiofsd ({@code virtio_fs_daemon_style = "c"}; its {@code --help}, QEMU 7.2),
 * whose tuning options are mostly the {@code -o} ones above; it adds {@code -f} (foreground, what the shim runs
 * anyway) and the {@code -o} options {@code debug posix_acl no_posix_acl security_label no_security_label
 * no_allow_direct_io max_idle_threads=N}. Refused there too: {@code --daemonize} (the shim supervises the daemon
 * in the foreground), {@code --print-capabilities}, and {@code -o sandbox= xattrmap= modcaps= allow_root}.
 *
 * <p>Used by the configuration and by Podvisor's extra virtio-fs devices (issue 13).
 */
public final class SafeVirtiofsdArgs {

    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,9}");
    private static final Pattern CACHE = Pattern.compile("auto|always|never|metadata|none");
    private static final Pattern LOG_LEVEL = Pattern.compile("error|warn|info|debug|trace|off");

    /** Options taking a value, and the values allowed. */
    private static final Map<String, Pattern> VALUED = Map.of(
            "--thread-pool-size", NUMBER,
            "--cache", CACHE,
            "--inode-file-handles", Pattern.compile("never|prefer|mandatory"),
            "--log-level", LOG_LEVEL,
            "--rlimit-nofile", NUMBER);

    /** Options without a value. */
    private static final Set<String> FLAGS = Set.of("--xattr", "--posix-acl", "--announce-submounts",
            "--allow-direct-io", "--writeback", "--no-readdirplus", "--killpriv-v2", "--no-killpriv-v2",
            "--security-label", "--preserve-noatime", "--allow-mmap", "--syslog", "-d", "--debug",
            "-f");

    /** {@code -o} options without a value. */
    private static final Set<String> O_FLAGS = Set.of("xattr", "no_xattr", "flock", "no_flock", "posix_lock",
            "no_posix_lock", "writeback", "no_writeback", "readdirplus", "no_readdirplus", "announce_submounts",
            "allow_direct_io", "killpriv_v2", "no_killpriv_v2", "no_open",
            // QEMU's C virtiofsd
            "debug", "posix_acl", "no_posix_acl", "security_label", "no_security_label", "no_allow_direct_io");

    /** {@code -o} options with a value. */
    private static final Map<String, Pattern> O_VALUED = Map.of("cache", CACHE, "timeout", NUMBER,
            "log_level", LOG_LEVEL, "max_idle_threads", NUMBER);

    private SafeVirtiofsdArgs() {
    }

    /**
     * A refused token: {@code <where>: virtiofsd argument '<token>' is not allowed (<why>)}.
     */
    public static final class Refused extends IllegalArgumentException {
        private final String where;
        private final String token;

        Refused(String where, String token, String why) {
            super(where + ": virtiofsd argument '" + token + "' is not allowed (" + why + ")");
            this.where = where;
            this.token = token;
        }

        /** @return the setting the token came from, e.g. {@code annotation io.katacontainers.config.hypervisor.virtio_fs_extra_args} */
        public String where() {
            return where;
        }

        /** @return the refused token */
        public String token() {
            return token;
        }
    }

    /**
     * Checks every argument.
     *
     * @param args  the arguments, one token each (as they will be passed to virtiofsd)
     * @param where the setting they came from, for the error
     * @return {@code args}, unchanged
     * @throws Refused for the first token outside the allow-list, or an allowed option with a bad or missing value
     */
    public static List<String> check(List<String> args, String where) {
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (FLAGS.contains(arg)) {
                continue;
            }
            if (arg.equals("-o")) {
                if (i + 1 >= args.size()) {
                    throw new Refused(where, arg, "-o needs options");
                }
                checkOptions(args.get(++i), where);
                continue;
            }
            if (arg.startsWith("-o") && !arg.startsWith("--")) {
                checkOptions(arg.substring(2), where);
                continue;
            }
            int eq = arg.indexOf('=');
            String name = eq < 0 ? arg : arg.substring(0, eq);
            Pattern values = VALUED.get(name);
            if (values == null) {
                throw new Refused(where, arg, reason(name));
            }
            String value;
            if (eq >= 0) {
                value = arg.substring(eq + 1);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            } else {
                throw new Refused(where, arg, "a value is missing");
            }
            if (!values.matcher(value).matches()) {
                throw new Refused(where, name + "=" + value, "the value must match " + values.pattern());
            }
        }
        return args;
    }

    private static void checkOptions(String options, String where) {
        for (String option : options.split(",")) {
            int eq = option.indexOf('=');
            String name = eq < 0 ? option : option.substring(0, eq);
            if (eq < 0 && O_FLAGS.contains(name)) {
                continue;
            }
            Pattern values = O_VALUED.get(name);
            if (values != null && eq >= 0 && values.matcher(option.substring(eq + 1)).matches()) {
                continue;
            }
            throw new Refused(where, "-o " + option, name.equals("source") ? "the shim sets the shared directory"
                    : values != null ? "the value must match " + values.pattern()
                    : List.of("sandbox", "xattrmap", "modcaps", "allow_root").contains(name)
                    ? "it changes what the guest reaches on the host" : "not an option a user may set");
        }
    }

    private static String reason(String name) {
        return switch (name) {
            case "--shared-dir", "--socket-path", "--socket", "--fd", "--socket-group", "--tag" ->
                    "the shim sets it";
            case "--daemonize" -> "the shim runs virtiofsd in the foreground";
            case "--sandbox", "--seccomp", "--modcaps", "--uid-map", "--gid-map", "--translate-uid",
                 "--translate-gid", "--xattrmap", "--readonly" -> "it changes what the guest reaches on the host";
            default -> "not an option a user may set";
        };
    }

    /** @return the allowed option names, for documentation and tests */
    public static List<String> allowedOptions() {
        List<String> out = new ArrayList<>(FLAGS);
        out.addAll(VALUED.keySet());
        return List.copyOf(out);
    }
}
