package dev.podvisor.shim.cli;

import dev.podvisor.sandbox.PlanExplain;
import dev.podvisor.storage.plan.PlanJson;
import dev.podvisor.storage.plan.PlanTable;
import dev.podvisor.storage.plan.RootfsMount;
import dev.podvisor.storage.plan.StoragePlan;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code podvisor} command for operators.
 *
 * <pre>
 * podvisor plan [--json] [--config FILE] [--rootfs TYPE:SOURCE[:OPT,OPT...]]... [--sandbox-id ID] [--id ID] BUNDLE
 * podvisor monitor [--listen-address HOST:PORT] [--config FILE] [--management-dir DIR] [--scrape-timeout MS]
 * podvisor direct-volume add|remove|stats|resize --volume-path PATH [--mount-info JSON] [--size BYTES]
 * </pre>
 *
 * {@code plan} prints where the rootfs and every mount of the bundle's config.json would live — virtio-fs,
 * virtio-blk, guest tmpfs... — with the rule that decided it and why, on the live host, without starting or
 * mounting anything. Exit 0 on success, 2 for bad usage, 1 when the bundle cannot be planned.
 * {@code monitor} serves every shim's metrics on one TCP address (see {@link MonitorCommand}).
 * {@code direct-volume} is {@code kata-runtime direct-volume} (see {@link DirectVolumeCommand}).
 */
public final class PodvisorCli {

    private PodvisorCli() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.exit(run(Arrays.asList(args), System.getenv(), out, System.err));
    }

    static final String USAGE = "usage: podvisor plan [--json] [--config FILE] [--rootfs TYPE:SOURCE[:OPT,...]]... "
            + "[--sandbox-id ID] [--id ID] BUNDLE";

    /** Runs one command; returns the exit code. */
    public static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        if (!args.isEmpty() && args.getFirst().equals("monitor")) {
            return MonitorCommand.run(args, env, out, err);
        }
        if (!args.isEmpty() && args.getFirst().equals("direct-volume")) {
            return DirectVolumeCommand.run(args, env, out, err);
        }
        if (args.isEmpty() || !args.getFirst().equals("plan")) {
            err.println(USAGE);
            err.println(MonitorCommand.USAGE);
            err.println(DirectVolumeCommand.USAGE);
            return 2;
        }
        boolean json = false;
        Optional<Path> config = Optional.empty();
        List<RootfsMount> rootfs = new ArrayList<>();
        String bundle = null;
        String id = null;
        String sandboxId = null;
        try {
            for (int i = 1; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "--json" -> json = true;
                    case "--config" -> config = Optional.of(Path.of(value(args, ++i, arg)));
                    case "--rootfs" -> rootfs.add(parseRootfs(value(args, ++i, arg)));
                    case "--id" -> id = value(args, ++i, arg);
                    case "--sandbox-id" -> sandboxId = value(args, ++i, arg);
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> {
                        if (arg.startsWith("-") || bundle != null) {
                            throw new IllegalArgumentException("unexpected argument '" + arg + "'");
                        }
                        bundle = arg;
                    }
                }
            }
            if (bundle == null) {
                throw new IllegalArgumentException("missing BUNDLE");
            }
        } catch (IllegalArgumentException e) {
            err.println("podvisor plan: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        Path bundlePath = Path.of(bundle);
        String containerId = id != null ? id : bundlePath.toAbsolutePath().normalize().getFileName().toString();
        try {
            StoragePlan plan = PlanExplain.plan(bundlePath, rootfs, config, env,
                    sandboxId != null ? sandboxId : containerId, containerId);
            out.print(json ? PlanJson.toJson(plan, true) + "\n" : PlanTable.render(plan));
            return 0;
        } catch (RuntimeException e) {
            err.println("podvisor plan: " + e.getMessage());
            return 1;
        }
    }

    /** {@code TYPE:SOURCE[:OPT,OPT...]}, e.g. {@code overlay:overlay:lowerdir=/l,upperdir=/u,workdir=/w}. */
    static RootfsMount parseRootfs(String value) {
        String[] parts = value.split(":", 3);
        if (parts.length < 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new IllegalArgumentException("--rootfs '" + value + "': expected TYPE:SOURCE[:OPT,OPT...]");
        }
        List<String> options = parts.length == 3 && !parts[2].isEmpty() ? List.of(parts[2].split(",")) : List.of();
        return new RootfsMount(parts[0], parts[1], options);
    }

    private static String value(List<String> args, int index, String flag) {
        if (index >= args.size()) {
            throw new IllegalArgumentException(flag + ": needs a value");
        }
        return args.get(index);
    }
}
