package dev.podvisor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A private containerd instance for one test (class), started by {@code scripts/containerd-private.sh} in a
 * fresh temp dir under {@code /tmp} (short, for unix socket paths). Its CRI plugin declares {@code runc} and
 * {@code kata} (Podvisor, with the given configuration.toml as {@code ConfigPath}); containerd's environment
 * has {@code KATA_CONF_FILE} so that {@code ctr run --runtime io.containerd.kata.v2} finds it too.
 *
 * <pre>{@code
 * try (var c = PrivateContainerd.start(Installed.get().testbedConfiguration())) {
 *     BusyboxImage.importInto(c, "default");
 *     String id = c.uniqueId("hello");
 *     CommandResult r = c.ctr("run", "--rm", "--runtime", "io.containerd.kata.v2", BusyboxImage.NAME, id, "echo", "hi");
 *     assertEquals("hi", r.requireSuccess().out());
 * } // stops containerd, kills what is left of its shims, unmounts under its dir, checks for leftovers
 * }</pre>
 *
 * <p>Which containerd: {@link ContainerdVersion#selected()} (system property {@code podvisor.containerd}, 1.6 by
 * default, 2.1 for Debian sid's 2.1.9), or {@link Builder#containerd}; {@link #ctr} uses the matching ctr.
 *
 * <p>{@link #close()} fails (AssertionError) when the script reports a leftover or, with
 * {@link Builder#checkLeftoversOnClose(boolean)} (on by default), when {@link Leftovers} finds a process, mount,
 * loop device or socket naming the instance's dir or an id from {@link #uniqueId}.
 */
public final class PrivateContainerd implements AutoCloseable {

    /** The shim's default state dir: searched for sockets by the leftover check. */
    public static final Path SHIM_STATE_DIR = Path.of("/run/podvisor");

    private final Path dir;
    private final ContainerdVersion version;
    private final boolean checkLeftovers;
    private final Leftovers.Snapshot atStart;
    private final List<String> markers = new CopyOnWriteArrayList<>();
    private boolean closed;

    private PrivateContainerd(Path dir, ContainerdVersion version, boolean checkLeftovers, Leftovers.Snapshot atStart) {
        this.dir = dir;
        this.version = version;
        this.checkLeftovers = checkLeftovers;
        this.atStart = atStart;
        markers.add(dir.toString());
    }

    /**
     * Starts an instance whose kata runtime uses {@code runtimeConfig} and the installed shim
     * ({@link Installed#get()}).
     *
     * @param runtimeConfig the configuration.toml; null for none (runc only)
     * @return the running instance
     * @throws IllegalStateException when it does not start (message holds the script's output)
     */
    public static PrivateContainerd start(Path runtimeConfig) {
        Builder b = builder().runtimeConfig(runtimeConfig);
        if (runtimeConfig != null) {
            b.shim(Installed.get().shimLauncher());
        }
        return b.start();
    }

    /**
     * Starts an instance using the testbed configuration and shim of {@link Installed#get()}.
     *
     * @return the running instance
     * @throws IllegalStateException when there is no install or it does not start
     */
    public static PrivateContainerd start() {
        return start(Installed.get().testbedConfiguration());
    }

    /** @return a builder for the less common options */
    public static Builder builder() {
        return new Builder();
    }

    /** Options of {@link PrivateContainerd}; every one is optional. */
    public static final class Builder {
        private Path runtimeConfig;
        private Path shim;
        private String sandboxImage;
        private String logLevel;
        private boolean checkLeftoversOnClose = true;
        private boolean cni;
        private ContainerdVersion version = ContainerdVersion.selected();
        private boolean devLog;
        private int cniMtu;
        private int cniNetworks = 1;
        private boolean blockfile;
        private String proxySnapshotter;

        private Builder() {
        }

        /**
         * @param name   the snapshotter's name for containerd ({@code ctr run --snapshotter NAME}); letters,
         *               digits, {@code _} and {@code -}
         * @param socket the unix socket it serves containerd's snapshots gRPC API on (absolute), e.g.
         *               {@code dev.podvisor.it.snapshotter.ProxySnapshotter#socket()}
         * @return this; containerd gets {@code [proxy_plugins.NAME] type = "snapshot" address = "SOCKET"} (the
         *         script's {@code --proxy-snapshotter}, config versions 2 and 3)
         */
        public Builder proxySnapshotter(String name, Path socket) {
            this.proxySnapshotter = name + "=" + socket.toAbsolutePath();
            return this;
        }

        /**
         * @param enable whether containerd 2.x's blockfile snapshotter is on (the script's {@code --blockfile}):
         *               snapshots as ext4 image files, mounted with {@code loop}. Default false
         * @return this
         */
        public Builder blockfile(boolean enable) {
            this.blockfile = enable;
            return this;
        }

        /**
         * @param containerd which containerd to run; default {@link ContainerdVersion#selected()}
         * @return this
         */
        public Builder containerd(ContainerdVersion containerd) {
            this.version = containerd;
            return this;
        }

        /**
         * @param enable whether containerd and its shims get a private {@code /dev/log} (their own mount
         *               namespace, a discarding syslog socket: the script's {@code --dev-log}); Kata's Go
         *               shim needs one. Default false
         * @return this
         */
        public Builder devLog(boolean enable) {
            this.devLog = enable;
            return this;
        }

        /**
         * @param toml configuration.toml for the kata runtime ({@code ConfigPath}, {@code KATA_CONF_FILE}); null: none
         * @return this
         */
        public Builder runtimeConfig(Path toml) {
            this.runtimeConfig = toml;
            return this;
        }

        /**
         * @param launcher the {@code containerd-shim-kata-v2} to link into {@code <dir>/opt/bin}; default: the
         *                 script's ({@code /opt/podvisor/bin/containerd-shim-kata-v2})
         * @return this
         */
        public Builder shim(Path launcher) {
            this.shim = launcher;
            return this;
        }

        /**
         * @param image CRI {@code sandbox_image}; default {@link BusyboxImage#PAUSE_NAME}
         * @return this
         */
        public Builder sandboxImage(String image) {
            this.sandboxImage = image;
            return this;
        }

        /**
         * @param level containerd log level (trace, debug, info, warn, error); debug makes shims get {@code -debug}
         * @return this
         */
        public Builder logLevel(String level) {
            this.logLevel = level;
            return this;
        }

        /**
         * @param enable whether CRI pods get a network: a private bridge on a random free 10.2xx.y.0/24 (the
         *               script's {@code --cni}); default false (only host-network pods)
         * @return this
         */
        public Builder cni(boolean enable) {
            this.cni = enable;
            return this;
        }

        /**
         * @param mtu MTU of the CNI bridge and the pods' veths (the bridge plugin's {@code mtu}); implies
         *            {@link #cni(boolean) cni(true)}; 0: the kernel's default (1500)
         * @return this
         */
        public Builder cniMtu(int mtu) {
            this.cniMtu = mtu;
            this.cni |= mtu > 0;
            return this;
        }

        /**
         * @param count 1 or 2 CNI networks, each its own bridge and subnet, loaded together ({@code max_conf_num});
         *              with 2 a pod gets {@code eth0} (default route) and {@code eth1} (a route to a private /24
         *              behind the second bridge). Implies {@link #cni(boolean) cni(true)}.
         * @return this
         * @throws IllegalArgumentException when count is not 1 or 2
         */
        public Builder cniNetworks(int count) {
            if (count != 1 && count != 2) {
                throw new IllegalArgumentException("cniNetworks " + count + ": must be 1 or 2");
            }
            this.cniNetworks = count;
            this.cni = true;
            return this;
        }

        /**
         * @param check whether {@link #close()} asserts that nothing of this instance is left (default true)
         * @return this
         */
        public Builder checkLeftoversOnClose(boolean check) {
            this.checkLeftoversOnClose = check;
            return this;
        }

        /**
         * Starts the instance.
         *
         * @return the running instance
         * @throws IllegalStateException when it does not start; the temp dir is removed then
         */
        public PrivateContainerd start() {
            Leftovers.Snapshot before = Leftovers.take(SHIM_STATE_DIR);
            Path dir;
            try {
                dir = Files.createTempDirectory(Path.of("/tmp"), "pvctrd-");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create a temp dir under /tmp", e);
            }
            List<String> cmd = new ArrayList<>(List.of("bash", Installed.script("containerd-private.sh").toString(),
                    "start", dir.toString()));
            if (runtimeConfig != null) {
                cmd.addAll(List.of("--runtime-config", runtimeConfig.toString()));
            }
            if (shim != null) {
                cmd.addAll(List.of("--shim", shim.toString()));
            }
            if (sandboxImage != null) {
                cmd.addAll(List.of("--sandbox-image", sandboxImage));
            }
            if (logLevel != null) {
                cmd.addAll(List.of("--log-level", logLevel));
            }
            if (cni) {
                cmd.addAll(List.of("--cni", "--cni-networks", Integer.toString(cniNetworks)));
            }
            if (cniMtu > 0) {
                cmd.addAll(List.of("--cni-mtu", Integer.toString(cniMtu)));
            }
            if (version.binDir() != null) {
                cmd.addAll(List.of("--containerd-bin", version.binDir().toString()));
            }
            if (devLog) {
                cmd.add("--dev-log");
            }
            if (blockfile) {
                cmd.add("--blockfile");
            }
            if (proxySnapshotter != null) {
                cmd.addAll(List.of("--proxy-snapshotter", proxySnapshotter));
            }
            CommandResult r = Commands.run(cmd);
            PrivateContainerd c = new PrivateContainerd(dir, version, checkLeftoversOnClose, before);
            if (!r.ok()) {
                String log = c.logText();
                try {
                    c.stop();
                } catch (RuntimeException | AssertionError suppressed) {
                    // the start failure is the news
                }
                throw new IllegalStateException("private containerd did not start: " + r + "\n--- containerd.log\n" + log);
            }
            return c;
        }
    }

    /** @return the instance's directory (everything of it lives below) */
    public Path dir() {
        return dir;
    }

    /** @return which containerd this instance runs */
    public ContainerdVersion version() {
        return version;
    }

    /** @return the ctr matching this containerd ({@code ctr} from PATH, or an absolute path) */
    public String ctrBinary() {
        return version.ctr();
    }

    /** @return the gRPC socket, for {@code ctr --address} or a client */
    public Path address() {
        return dir.resolve("containerd.sock");
    }

    /**
     * Starts an instance for CRI tests: runtimes {@code runc} and {@code kata} (the installed shim with
     * {@code runtimeConfig}), one private CNI bridge network ({@link Builder#cni}), the sandbox image and
     * {@link BusyboxImage#NAME} imported into the {@code k8s.io} namespace.
     *
     * @param runtimeConfig the kata runtime's configuration.toml (e.g. {@link Installed#testbedConfiguration()})
     * @return the running instance; connect with {@code CriClient.connect(c.address())}
     * @throws IllegalStateException when it does not start
     */
    public static PrivateContainerd startCri(Path runtimeConfig) {
        return startCri(builder().runtimeConfig(runtimeConfig).cni(true));
    }

    /**
     * Starts an instance from a builder (shim defaulted to the installed one), then imports the busybox and
     * sandbox images into {@code k8s.io}.
     *
     * @param options the builder, e.g. {@code builder().runtimeConfig(toml).cniMtu(1400)}
     * @return the running instance
     * @throws IllegalStateException when it does not start
     */
    public static PrivateContainerd startCri(Builder options) {
        if (options.runtimeConfig != null && options.shim == null) {
            options.shim(Installed.get().shimLauncher());
        }
        PrivateContainerd c = options.start();
        try {
            BusyboxImage.importInto(c, CRI_NAMESPACE);
        } catch (RuntimeException | AssertionError e) {
            c.closeQuietly(e);
            throw e;
        }
        return c;
    }

    /** The containerd namespace of CRI: images for pods must be imported there. */
    public static final String CRI_NAMESPACE = "k8s.io";

    /**
     * @return the CNI bridges of this instance ({@link Builder#cni}), first network first; empty without CNI.
     *         They are deleted by {@link #close()}.
     */
    public List<String> cniBridges() {
        try {
            Path list = dir.resolve("cni/bridges");
            return Files.exists(list) ? Files.readAllLines(list).stream().filter(l -> !l.isBlank()).toList() : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void closeQuietly(Throwable cause) {
        try {
            close();
        } catch (RuntimeException | AssertionError suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    /**
     * @return where the CRI plugin bind-mounts pods' network namespaces ({@code netns_mounts_under_state_dir}:
     *         {@code <state>/io.containerd.grpc.v1.cri/netns}); containerd creates it with the first pod
     */
    public Path netnsDir() {
        return dir.resolve("state/io.containerd.grpc.v1.cri/netns");
    }

    /**
     * @return containerd's process id (its {@code containerd.pid}), e.g. to read its mount namespace's
     *         {@code /proc/<pid>/mountinfo}
     */
    public long pid() {
        try {
            return Long.parseLong(Files.readString(dir.resolve("containerd.pid")).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** @return containerd's log file */
    public Path log() {
        return dir.resolve("containerd.log");
    }

    /** @return the bundle directory containerd made for container {@code id} in {@code namespace} */
    public Path bundle(String namespace, String id) {
        return dir.resolve("state/io.containerd.runtime.v2.task").resolve(namespace).resolve(id);
    }

    /**
     * A container id unique to this run ({@code <stem>-<12 hex digits>}), remembered as a leftover marker: after
     * {@link #close()}, nothing may name it.
     *
     * @param stem readable prefix, e.g. the test's name
     * @return the id
     */
    public String uniqueId(String stem) {
        byte[] b = new byte[6];
        ThreadLocalRandom.current().nextBytes(b);
        String id = stem + "-" + HexFormat.of().formatHex(b);
        markers.add(id);
        return id;
    }

    /**
     * Adds a leftover marker (e.g. a temp dir the test mounted things under).
     *
     * @param marker a string that anything the test leaves would name
     */
    public void addLeftoverMarker(String marker) {
        markers.add(marker);
    }

    /**
     * Runs {@code ctr --address <socket> args...} with empty stdin and a 120 s timeout.
     *
     * @param args ctr arguments, e.g. {@code "-n", "k8s.io", "images", "ls"}
     * @return the result (never throws for a non-zero exit)
     */
    public CommandResult ctr(String... args) {
        return ctr(Commands.DEFAULT_TIMEOUT, args);
    }

    /**
     * Runs ctr with a timeout.
     *
     * @param timeout how long it may run; then it and its children are killed
     * @param args    ctr arguments
     * @return the result
     */
    public CommandResult ctr(Duration timeout, String... args) {
        return Commands.run(ctrCommand(args), null, timeout, Map.of());
    }

    /**
     * Runs ctr with bytes on its stdin (closed after them), e.g. {@code run --rm IMAGE ID head -n 1}. Note:
     * {@code ctr run} (1.6, without {@code -t}) never closes the task's stdin when its own stdin ends, so the
     * command must stop reading by itself ({@code head -n 1}, {@code read}); {@code cat} would hang until the
     * timeout.
     *
     * @param stdin bytes for stdin
     * @param args  ctr arguments
     * @return the result
     */
    public CommandResult runWithStdin(byte[] stdin, String... args) {
        return Commands.run(ctrCommand(args), stdin, Commands.DEFAULT_TIMEOUT, Map.of());
    }

    /**
     * Runs ctr with a string on its stdin (UTF-8).
     *
     * @param stdin text for stdin
     * @param args  ctr arguments
     * @return the result
     */
    public CommandResult runWithStdin(String stdin, String... args) {
        return runWithStdin(stdin.getBytes(StandardCharsets.UTF_8), args);
    }

    /**
     * Imports an image tarball.
     *
     * @param tarball   OCI image-layout or docker-archive tarball
     * @param namespace containerd namespace
     * @throws AssertionError when ctr fails
     */
    public void importImage(Path tarball, String namespace) {
        ctr("-n", namespace, "images", "import", tarball.toString()).requireSuccess();
    }

    private List<String> ctrCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(ctrBinary(), "--address", address().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private String logText() {
        try {
            return Files.readString(log());
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * Stops the instance ({@code containerd-private.sh stop}: kills and deletes every task, stops containerd, kills
     * leftover shims, unmounts under the dir, removes it). Idempotent.
     *
     * @throws AssertionError when the script reports a leftover, or (with the leftover check on) when
     *                        {@link Leftovers} finds something naming the dir or an id of {@link #uniqueId}
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        String log = logText();
        CommandResult r = stop();
        if (!r.ok()) {
            throw new AssertionError("stopping the private containerd left something: " + r
                    + "\n--- containerd.log\n" + log);
        }
        if (checkLeftovers) {
            Leftovers.assertNothingNewSince(atStart, markers);
        }
    }

    private CommandResult stop() {
        return Commands.run(List.of("bash", Installed.script("containerd-private.sh").toString(), "stop",
                dir.toString()));
    }
}
