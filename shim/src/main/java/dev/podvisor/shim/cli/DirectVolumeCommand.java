package dev.podvisor.shim.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.sandbox.metrics.SandboxProbe;
import dev.podvisor.shim.metrics.HttpResponse;
import dev.podvisor.shim.metrics.UnixHttpClient;
import dev.podvisor.storage.directvolume.DirectVolumeStore;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.plan.DirectVolumeInfo;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code podvisor direct-volume}, a drop-in for {@code kata-runtime direct-volume} (kata-containers:
 * src/runtime/cmd/kata-runtime/kata-volume.go), same sub-commands, flags and files:
 *
 * <pre>
 * podvisor direct-volume add    --volume-path PATH --mount-info JSON
 * podvisor direct-volume remove --volume-path PATH
 * podvisor direct-volume stats  --volume-path PATH          # prints the guest's figures (JSON)
 * podvisor direct-volume resize --volume-path PATH --size BYTES
 * </pre>
 *
 * Each also takes {@code --config FILE} (else Kata's search order, else the defaults) for
 * {@code [podvisor] direct_volumes_root} and {@code management_dir}; flags may be written {@code --flag=value}.
 * {@code add} validates the record as the planner will at create time ({@link DirectVolumeStore#add}).
 * {@code stats} and {@code resize} find the sandbox from the volume's sandbox-id file and ask its shim over
 * {@code <management_dir>/<sandbox id>/shim-monitor.sock}. Exit 0 on success, 2 for bad usage, 1 otherwise.
 */
final class DirectVolumeCommand {

    static final String USAGE = "usage: podvisor direct-volume add|remove|stats|resize --volume-path PATH "
            + "[--mount-info JSON] [--size BYTES] [--config FILE]";
    static final Duration TIMEOUT = Duration.ofSeconds(10);


    private DirectVolumeCommand() {
    }

    /** Runs {@code args} (starting with {@code direct-volume}); returns the exit code. */
    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        String sub = args.size() > 1 ? args.get(1) : "";
        String volumePath = null;
        String mountInfo = null;
        Long size = null;
        Optional<Path> config = Optional.empty();
        try {
            if (!List.of("add", "remove", "stats", "resize").contains(sub)) {
                throw new IllegalArgumentException(sub.isEmpty() ? "missing sub-command" : "unknown sub-command '" + sub + "'");
            }
            for (int i = 2; i < args.size(); i++) {
                String arg = args.get(i);
                String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                String inline = arg.contains("=") ? arg.substring(arg.indexOf('=') + 1) : null;
                if (name.equals("-h") || name.equals("--help")) {
                    out.println(USAGE);
                    return 0;
                }
                String value = inline != null ? inline : value(args, ++i, name);
                switch (name) {
                    case "--volume-path" -> volumePath = value;
                    case "--mount-info" -> mountInfo = value;
                    case "--size" -> size = size(value);
                    case "--config" -> config = Optional.of(Path.of(value));
                    default -> throw new IllegalArgumentException("unexpected argument '" + arg + "'");
                }
            }
            if (volumePath == null || volumePath.isEmpty()) {
                throw new IllegalArgumentException("--volume-path: missing");
            }
            if (sub.equals("add") && mountInfo == null) {
                throw new IllegalArgumentException("--mount-info: missing");
            }
            if (sub.equals("resize") && size == null) {
                throw new IllegalArgumentException("--size: missing");
            }
        } catch (IllegalArgumentException e) {
            err.println("podvisor direct-volume: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        try {
            PodvisorConfig cfg = loadConfig(config, env);
            DirectVolumeStore store = new DirectVolumeStore(cfg.podvisor().directVolumesRoot());
            switch (sub) {
                case "add" -> store.add(volumePath, mountInfo);
                case "remove" -> store.remove(volumePath);
                case "stats" -> out.println(stats(store, cfg, volumePath));
                default -> resize(store, cfg, volumePath, size);
            }
            return 0;
        } catch (RuntimeException | IOException e) {
            err.println("podvisor direct-volume " + sub + ": " + e.getMessage());
            return 1;
        }
    }

    private static String stats(DirectVolumeStore store, PodvisorConfig cfg, String volumePath) throws IOException {
        Path socket = socket(store, cfg, volumePath);
        String device = device(store, volumePath);
        HttpResponse answer = UnixHttpClient.get(socket, "/direct-volume/stats?path="
                + URLEncoder.encode(device, StandardCharsets.UTF_8), TIMEOUT);
        return checked(answer, "stats");
    }

    private static void resize(DirectVolumeStore store, PodvisorConfig cfg, String volumePath, long size) throws IOException {
        Path socket = socket(store, cfg, volumePath);
        ObjectNode body = JsonTrees.NODES.objectNode().put("VolumePath", device(store, volumePath)).put("Size", size);
        checked(UnixHttpClient.postJson(socket, "/direct-volume/resize", JsonTrees.toBytes(body), TIMEOUT), "resize");
    }

    private static Path socket(DirectVolumeStore store, PodvisorConfig cfg, String volumePath) {
        String sandboxId = store.sandboxId(volumePath);
        Path socket = cfg.podvisor().managementDir().resolve(sandboxId).resolve(SandboxProbe.SOCKET_NAME);
        if (!Files.exists(socket)) {
            throw new IllegalStateException("sandbox " + sandboxId + " of " + volumePath + ": no management socket "
                    + socket + " (is its shim running?)");
        }
        return socket;
    }

    private static String device(DirectVolumeStore store, String volumePath) {
        DirectVolumeInfo info = store.info(volumePath)
                .orElseThrow(() -> new IllegalStateException("no direct volume recorded for " + volumePath));
        return info.device();
    }

    private static String checked(HttpResponse answer, String what) {
        if (answer.status() != 200) {
            throw new IllegalStateException("shim answered " + answer.status() + ": " + answer.bodyText().strip());
        }
        return answer.bodyText();
    }

    private static PodvisorConfig loadConfig(Optional<Path> config, Map<String, String> env) {
        try {
            return new ConfigLoader().load(config, env);
        } catch (RuntimeException e) {
            if (config.isPresent() || env.containsKey(ConfigLoader.KATA_CONF_FILE)) {
                throw new UncheckedIOException(new IOException("configuration: " + e.getMessage(), e));
            }
            return PodvisorConfig.defaults(); // no configuration on this node: Kata's paths
        }
    }

    private static long size(String value) {
        try {
            long n = Long.parseUnsignedLong(value);
            if (n == 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--size '" + value + "': not a positive number of bytes");
        }
    }

    private static String value(List<String> args, int index, String flag) {
        if (index >= args.size()) {
            throw new IllegalArgumentException(flag + ": needs a value");
        }
        return args.get(index);
    }
}
