package dev.podvisor.testbed.guest;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.MountInfo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The guest emulator: the inside of one testbed VM (see "Testbed contract" in docs/architecture.md).
 *
 * <pre>
 * unshare --mount --propagation slave --net java ... dev.podvisor.testbed.guest.GuestMain \
 *     --vm-dir &lt;dir&gt; --control &lt;dir&gt;/guest-control.sock --vsock-listen-dir &lt;dir&gt;/guest-vsock
 * </pre>
 *
 * <ol>
 *   <li>Mount namespace: a real guest sees virtio-fs content the host mounts later (virtiofsd serves the
 *       live tree). A private namespace would freeze the guest's view at start, so the emulator first
 *       re-executes itself (same pid, {@code execve}) as {@code nsenter --mount=/proc/<parent>/ns/mnt --
 *       unshare --mount --propagation slave -- <same java command>}: a namespace that receives the host's
 *       mount events under shared mounts but never sends its own mounts back to the host.</li>
 *   <li>It becomes a child subreaper, listens on {@code --control} and accepts the VMM stand-in's
 *       connection; JSON lines: {@code boot}, {@code add-disk}, {@code add-fs}, {@code remove-device},
 *       {@code shutdown} ({@link ControlEvent}).</li>
 *   <li>Network namespace: its own (from {@code unshare --net}), like a VM's network stack: {@code lo}, and
 *       the NICs the VMM stand-in creates there before it sends {@code boot}; the agent's network calls
 *       apply to it ({@link GuestNetwork}) and runc, started from it, gives containers that have no
 *       {@code network} namespace entry the same NICs.</li>
 *   <li>On {@code boot}: {@code lo} up, a tmpfs at {@code <vm-dir>/guest-root} (the guest's {@code /}), the log, and the
 *       agent on vsock port 1024 = unix socket {@code <vsock-listen-dir>/1024.sock} serving
 *       {@code grpc.AgentService} and {@code grpc.Health} ({@link AgentServices}).</li>
 *   <li>On {@code shutdown}, SIGTERM or the control connection closing: every container killed and
 *       deleted, every storage unmounted, loop devices detached, cgroups, runc state and sockets removed;
 *       exit status 0.</li>
 * </ol>
 * Needs root and {@code runc} on PATH.
 */
public final class GuestMain {

    /** Environment variable marking the re-executed emulator (value {@value #NS_MARK}). */
    static final String NS_ENV = "PODVISOR_GUEST_NS";
    static final String NS_MARK = "slave";
    /** The agent's vsock port ({@code DEFAULT_AGENT_VSOCK_PORT}). */
    static final int AGENT_PORT = 1024;

    private final Path vmDir;
    private final Path control;
    private final Path vsockDir;
    private final ObjectMapper json = new ObjectMapper();
    private final GuestEvents events = new GuestEvents();
    private final Devices devices = new Devices();
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private final GuestRoot root;
    private final StorageManager storages;
    private final Containers containers;
    private final AgentServices services;
    private volatile TtrpcServer server;
    private volatile boolean rootMounted;
    private boolean cleanedUp;
    private volatile int exitStatus;

    GuestMain(Path vmDir, Path control, Path vsockDir) {
        this.vmDir = vmDir.toAbsolutePath();
        this.control = control.toAbsolutePath();
        this.vsockDir = vsockDir.toAbsolutePath();
        this.root = new GuestRoot(this.vmDir.resolve("guest-root"));
        this.storages = new StorageManager(root, devices, events);
        this.containers = new Containers(this.vmDir, root, storages, events);
        this.services = new AgentServices(root, storages, containers, events, shutdown);
    }

    /**
     * Entry point.
     *
     * @param args {@code --vm-dir <dir> --control <socket> --vsock-listen-dir <dir>}
     */
    public static void main(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.equals("--vm-dir") && !arg.equals("--control") && !arg.equals("--vsock-listen-dir")) {
                usage("unknown argument '" + arg + "'");
            }
            if (i + 1 >= args.length) {
                usage(arg + ": missing value");
            }
            options.put(arg, args[++i]);
        }
        for (String required : List.of("--vm-dir", "--control", "--vsock-listen-dir")) {
            if (!options.containsKey(required)) {
                usage(required + ": missing");
            }
        }
        if (!NS_MARK.equals(System.getenv(NS_ENV))) {
            reexecInSlaveNamespace();
        }
        GuestMain guest = new GuestMain(Path.of(options.get("--vm-dir")), Path.of(options.get("--control")),
                Path.of(options.get("--vsock-listen-dir")));
        int status = guest.run();
        System.exit(status);
    }

    private static void usage(String problem) {
        System.err.println("guest: " + problem);
        System.err.println("usage: GuestMain --vm-dir <dir> --control <socket> --vsock-listen-dir <dir>");
        System.exit(2);
    }

    /** Replaces this process (same pid) with itself inside a slave copy of the parent's mount namespace. */
    private static void reexecInSlaveNamespace() {
        try {
            long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            List<String> self = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < raw.length; i++) {
                if (raw[i] == 0) {
                    self.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                    start = i + 1;
                }
            }
            String java = ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString());
            self.set(0, java);
            List<String> argv = new ArrayList<>(List.of("nsenter", "--mount=/proc/" + parent + "/ns/mnt", "--",
                    "unshare", "--mount", "--propagation", "slave", "--"));
            argv.addAll(self);
            List<String> env = new ArrayList<>();
            System.getenv().forEach((k, v) -> {
                if (!k.equals(NS_ENV)) {
                    env.add(k + "=" + v);
                }
            });
            env.add(NS_ENV + "=" + NS_MARK);
            System.out.flush();
            System.err.flush();
            NativeCalls.execve("/usr/bin/nsenter", argv, env);
        } catch (IOException e) {
            System.err.println("guest: cannot re-enter a slave mount namespace: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Serves the control connection until shutdown; returns the exit status. */
    int run() {
        // SIGTERM is an orderly shutdown: clean up, then end with this guest's own status (0 unless run()
        // failed) instead of the JVM's 143; halting inside the hook is what sets that status
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            cleanup();
            Runtime.getRuntime().halt(exitStatus);
        }, "guest-shutdown"));
        try {
            Linux.setChildSubreaper();
            Files.createDirectories(vmDir);
            Files.deleteIfExists(control);
            try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                listener.bind(UnixDomainSocketAddress.of(control));
                try (SocketChannel connection = listener.accept()) {
                    BufferedReader reader = new BufferedReader(new InputStreamReader(
                            Channels.newInputStream(connection), StandardCharsets.UTF_8));
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (line.isBlank()) {
                            continue;
                        }
                        ControlEvent event;
                        try {
                            event = ControlEvent.parse(json, line);
                        } catch (IllegalArgumentException e) {
                            events.log("error", Map.of("action", "control", "message", e.getMessage()));
                            continue;
                        }
                        if (!handle(event)) {
                            break;
                        }
                    }
                }
            }
            cleanup();
            return 0;
        } catch (IOException | RuntimeException e) {
            System.err.println("guest: " + e);
            events.log("error", Map.of("action", "run", "message", String.valueOf(e.getMessage())));
            exitStatus = 1;
            cleanup();
            return 1;
        }
    }

    /** Applies one control event; false on shutdown. */
    boolean handle(ControlEvent event) throws IOException {
        switch (event) {
            case ControlEvent.Boot boot -> {
                boot(boot);
            }
            case ControlEvent.AddDisk add -> {
                devices.addDisk(add.disk());
                events.log("control", Map.of("event", "add-disk", "id", add.disk().id(), "bdf", add.disk().bdf(),
                        "path", add.disk().path(), "readonly", add.disk().readonly()));
            }
            case ControlEvent.AddFs add -> {
                devices.addFs(add.fs());
                events.log("control", Map.of("event", "add-fs", "id", String.valueOf(add.fs().id()),
                        "tag", add.fs().tag(), "sharedDir", add.fs().sharedDir()));
            }
            case ControlEvent.RemoveDevice remove -> {
                boolean known = devices.remove(remove.id());
                events.log("control", Map.of("event", "remove-device", "id", remove.id(), "known", known));
                storages.diskRemoved(remove.id());
            }
            case ControlEvent.Shutdown s -> {
                events.log("control", Map.of("event", "shutdown"));
                return false;
            }
        }
        return true;
    }

    private void boot(ControlEvent.Boot boot) throws IOException {
        if (server != null) {
            events.log("error", Map.of("action", "boot", "message", "already booted"));
            return;
        }
        events.open(boot.log() != null ? Path.of(boot.log()) : vmDir.resolve("testbed.jsonl"));
        boot.fs().forEach(devices::addFs);
        boot.disks().forEach(devices::addDisk);
        Files.createDirectories(root.root());
        Linux.mount("tmpfs", root.root().toString(), "tmpfs", 0, "mode=755");
        rootMounted = true;
        GuestNetwork.loopbackUp();
        Files.createDirectories(vsockDir);
        Path socket = vsockDir.resolve(AGENT_PORT + ".sock");
        Files.deleteIfExists(socket);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        TtrpcServer ttrpc = TtrpcServer.builder().service(services.agent()).service(services.health()).build();
        ttrpc.serve(listener);
        server = ttrpc;
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("event", "boot");
        fields.put("fs", boot.fs());
        fields.put("disks", boot.disks());
        fields.put("guestRoot", root.root().toString());
        fields.put("agentSocket", socket.toString());
        events.log("control", fields);
    }

    /** Tears everything down once (shutdown event, control EOF, SIGTERM). */
    synchronized void cleanup() {
        if (cleanedUp) {
            return;
        }
        cleanedUp = true;
        shutdown.countDown();
        TtrpcServer ttrpc = server;
        if (ttrpc != null) {
            ttrpc.close();
        }
        try {
            containers.removeAll();
        } catch (RuntimeException e) {
            events.log("error", Map.of("action", "shutdown-containers", "message", String.valueOf(e.getMessage())));
        }
        try {
            storages.destroyAll();
        } catch (RuntimeException e) {
            events.log("error", Map.of("action", "shutdown-storages", "message", String.valueOf(e.getMessage())));
        }
        services.network().release();
        if (rootMounted) {
            try {
                Linux.umount2(root.root().toString(), Linux.MNT_DETACH);
            } catch (LinuxException e) {
                events.log("error", Map.of("action", "umount-guest-root", "message", e.getMessage()));
            }
            rootMounted = false;
        }
        removeCgroups();
        Containers.deleteTree(vmDir.resolve("runc"));
        Containers.deleteTree(vmDir.resolve("io"));
        try {
            Files.deleteIfExists(root.root());
            Files.deleteIfExists(vsockDir.resolve(AGENT_PORT + ".sock"));
            Files.deleteIfExists(control);
        } catch (IOException ignored) {
            // best effort
        }
        events.log("control", Map.of("event", "stopped"));
        events.close();
    }

    /** Removes {@code /podvisor-testbed/<vm>} (and the shared parent when empty) in every cgroup hierarchy. */
    private void removeCgroups() {
        List<String> hierarchies = new ArrayList<>();
        try {
            for (var entry : MountInfo.parse(Files.readString(Path.of("/proc/self/mountinfo")))) {
                if (entry.fsType().equals("cgroup") || entry.fsType().equals("cgroup2")) {
                    hierarchies.add(entry.mountPoint());
                }
            }
        } catch (IOException | RuntimeException e) {
            return;
        }
        String parent = containers.cgroupParent();
        for (String hierarchy : hierarchies) {
            for (String dir : List.of(hierarchy + parent, hierarchy + parent.substring(0, parent.lastIndexOf('/')))) {
                try {
                    Files.deleteIfExists(Path.of(dir));
                } catch (IOException ignored) {
                    // busy or not empty (another VM): left to its owner
                }
            }
        }
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }
}
