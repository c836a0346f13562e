package dev.podvisor.shim.cli;

import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.config.PodvisorExtras;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.shim.metrics.HttpServer;
import dev.podvisor.shim.metrics.NodeMonitor;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * {@code podvisor monitor}: the node's metrics endpoint, like kata-monitor.
 *
 * <pre>
 * podvisor monitor [--listen-address HOST:PORT] [--config FILE] [--management-dir DIR] [--scrape-timeout MS] [--debug]
 * </pre>
 *
 * Listens on one TCP address (default {@code 127.0.0.1:8090}, kata-monitor's; port 0 picks a free one) and
 * serves {@link NodeMonitor}'s paths. The shims are found under {@code --management-dir}, else the
 * configuration's {@code [podvisor] management_dir} ({@code --config}, else Kata's search order), else
 * {@code /run/vc/sbs}. Prints {@code listening on http://HOST:PORT} on stdout once it accepts, logs logfmt on
 * stderr, and runs until killed. Exit 2 for bad usage, 1 when it cannot listen.
 */
final class MonitorCommand {

    static final String USAGE = "usage: podvisor monitor [--listen-address HOST:PORT] [--config FILE] "
            + "[--management-dir DIR] [--scrape-timeout MS] [--debug]";

    private MonitorCommand() {
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        String listen = "127.0.0.1:8090";
        Optional<Path> config = Optional.empty();
        Path managementDir = null;
        Duration timeout = Duration.ofSeconds(2);
        boolean debug = false;
        InetSocketAddress address;
        try {
            for (int i = 1; i < args.size(); i++) {
                String arg = args.get(i);
                switch (arg) {
                    case "--listen-address" -> listen = value(args, ++i, arg);
                    case "--config" -> config = Optional.of(Path.of(value(args, ++i, arg)));
                    case "--management-dir" -> managementDir = Path.of(value(args, ++i, arg));
                    case "--scrape-timeout" -> timeout = Duration.ofMillis(positive(value(args, ++i, arg), arg));
                    case "--debug" -> debug = true;
                    case "-h", "--help" -> {
                        out.println(USAGE);
                        return 0;
                    }
                    default -> throw new IllegalArgumentException("unexpected argument '" + arg + "'");
                }
            }
            address = parseAddress(listen);
            if (managementDir == null) {
                managementDir = managementDir(config, env);
            }
        } catch (IllegalArgumentException e) {
            err.println("podvisor monitor: " + e.getMessage());
            err.println(USAGE);
            return 2;
        }
        LogfmtLog log = new LogfmtLog(err, debug ? LogfmtLog.Level.DEBUG : LogfmtLog.Level.INFO,
                Map.of("source", "podvisor-monitor"));
        NodeMonitor monitor = new NodeMonitor(managementDir, timeout, log);
        HttpServer server = new HttpServer(monitor.routes(), error -> log.debug("request failed", "error", error));
        try {
            ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.INET);
            try {
                channel.bind(address);
            } catch (IOException e) {
                channel.close();
                throw e;
            }
            InetSocketAddress bound = (InetSocketAddress) channel.getLocalAddress();
            server.serve(channel);
            String url = "http://" + bound.getHostString() + ":" + bound.getPort();
            log.info("monitor listening", "address", url, "management_dir", managementDir);
            out.println("listening on " + url);
            out.flush();
        } catch (IOException e) {
            err.println("podvisor monitor: cannot listen on " + listen + ": " + e.getMessage());
            return 1;
        }
        try {
            new CountDownLatch(1).await(); // until killed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
        return 0;
    }

    /** {@code HOST:PORT} (IPv6 as {@code [::1]:PORT}). */
    static InetSocketAddress parseAddress(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("--listen-address '" + value + "': expected HOST:PORT");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--listen-address '" + value + "': port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--listen-address '" + value + "': port out of range");
        }
        return new InetSocketAddress(host, port);
    }

    private static Path managementDir(Optional<Path> config, Map<String, String> env) {
        try {
            return new ConfigLoader().load(config, env).podvisor().managementDir();
        } catch (RuntimeException e) {
            if (config.isPresent()) {
                throw new IllegalArgumentException("--config " + config.get() + ": " + e.getMessage());
            }
            return PodvisorExtras.DEFAULT_MANAGEMENT_DIR; // no configuration on this node: Kata's default
        }
    }

    private static long positive(String value, String flag) {
        try {
            long n = Long.parseLong(value);
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " '" + value + "': expected a positive number of milliseconds");
        }
    }

    private static String value(List<String> args, int index, String flag) {
        if (index >= args.size()) {
            throw new IllegalArgumentException(flag + ": needs a value");
        }
        return args.get(index);
    }
}
