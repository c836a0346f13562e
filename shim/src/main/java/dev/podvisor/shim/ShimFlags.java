package dev.podvisor.shim;

import java.util.List;

/**
 * The command line containerd gives a shim-v2 binary, parsed the way Go's {@code flag} package does
 * (containerd: pkg/shim/shim.go): {@code -name value}, {@code -name=value} or {@code --name value}; boolean
 * flags take no value; the first non-flag argument is the action ({@code start}, {@code delete}) and no
 * action means "run the daemon".
 *
 * <p>containerd 1.6.20 passes {@code -namespace <ns> -address <grpc socket> -publish-binary <containerd>
 * -id <id> [-debug] start}, and adds {@code -bundle <dir>} for {@code delete}.
 *
 * @param namespace     containerd namespace ({@code -namespace}), e.g. {@code default} or {@code k8s.io}
 * @param address       containerd's gRPC socket path ({@code -address})
 * @param publishBinary containerd binary used by legacy event publishing ({@code -publish-binary})
 * @param id            the task id containerd asked for ({@code -id})
 * @param bundle        the bundle directory ({@code -bundle}); empty when not given (the cwd is the bundle)
 * @param socket        an explicit socket address ({@code -socket}), empty when not given
 * @param debug         {@code -debug}: log at debug level
 * @param version       {@code -v} / {@code -version}: print the version and exit
 * @param info          {@code -info}: print a containerd.types.RuntimeInfo (containerd 2.x) and exit
 * @param action        {@code start}, {@code delete}, or empty for the daemon
 */
public record ShimFlags(
        String namespace, String address, String publishBinary, String id, String bundle, String socket,
        boolean debug, boolean version, boolean info, String action) {

    /**
     * Parses argv.
     *
     * @throws IllegalArgumentException naming the flag when a flag is unknown or lacks its value
     */
    public static ShimFlags parse(List<String> args) {
        String namespace = "", address = "", publishBinary = "", id = "", bundle = "", socket = "", action = "";
        boolean debug = false, version = false, info = false;
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("-") || arg.equals("-") ) {
                if (!action.isEmpty()) {
                    throw new IllegalArgumentException("unexpected argument '" + arg + "' after action '" + action + "'");
                }
                action = arg;
                continue;
            }
            String name = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            String inlineValue = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                inlineValue = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            switch (name) {
                case "debug" -> debug = inlineValue == null || Boolean.parseBoolean(inlineValue);
                case "v", "version" -> version = inlineValue == null || Boolean.parseBoolean(inlineValue);
                case "info" -> info = inlineValue == null || Boolean.parseBoolean(inlineValue);
                case "namespace", "address", "publish-binary", "id", "bundle", "socket", "debug-socket" -> {
                    String value = inlineValue;
                    if (value == null) {
                        if (i + 1 >= args.size()) {
                            throw new IllegalArgumentException("flag -" + name + ": needs a value");
                        }
                        value = args.get(++i);
                    }
                    switch (name) {
                        case "namespace" -> namespace = value;
                        case "address" -> address = value;
                        case "publish-binary" -> publishBinary = value;
                        case "id" -> id = value;
                        case "bundle" -> bundle = value;
                        case "socket" -> socket = value;
                        default -> { } // -debug-socket: accepted, unused
                    }
                }
                default -> throw new IllegalArgumentException("flag provided but not defined: -" + name);
            }
        }
        return new ShimFlags(namespace, address, publishBinary, id, bundle, socket, debug, version, info, action);
    }

    /**
     * Checks the flags every action needs.
     *
     * @throws IllegalArgumentException naming the first missing flag
     */
    public ShimFlags requireTaskFlags() {
        if (namespace.isEmpty()) {
            throw new IllegalArgumentException("shim namespace cannot be empty (flag -namespace)");
        }
        if (id.isEmpty()) {
            throw new IllegalArgumentException("shim id cannot be empty (flag -id)");
        }
        return this;
    }
}
