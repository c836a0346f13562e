package dev.podvisor.shim;

import com.google.protobuf.Empty;
import dev.podvisor.hypervisor.ChildProcesses;
import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.hypervisor.VmConfigs;
import dev.podvisor.hypervisor.clh.CloudHypervisorProcess;
import dev.podvisor.hypervisor.clh.VmInfo;
import dev.podvisor.protocols.agent.CgroupStats;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.MemoryStats;
import dev.podvisor.protocols.agent.StatsContainerResponse;
import dev.podvisor.protocols.agent.Uint64Entry;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.ForwardRequest;
import dev.podvisor.protocols.containerd.task.v2.ConnectRequest;
import dev.podvisor.protocols.containerd.task.v2.ConnectResponse;
import dev.podvisor.protocols.containerd.task.v2.DeleteResponse;
import dev.podvisor.protocols.containerd.task.v2.StateRequest;
import dev.podvisor.protocols.containerd.task.v2.StateResponse;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.CgroupMetrics;
import dev.podvisor.sandbox.PlanExplain;
import dev.podvisor.sandbox.SandboxState;
import dev.podvisor.sandbox.VmSandbox;
import dev.podvisor.sandbox.agent.OciSpecConverter;
import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.sandbox.metrics.SandboxProbe;
import dev.podvisor.shim.metrics.ManagementServer;
import dev.podvisor.shim.metrics.UnixHttpClient;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.MountInfo;
import dev.podvisor.storage.plan.PlanJson;
import dev.podvisor.storage.plan.RootfsMount;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * The training runs for the shim's AOT caches ({@code scripts/setup.sh} runs them with
 * {@code -XX:AOTCacheOutput}). With the argument {@code delete}: only what that action runs
 * ({@link DeleteTraining}), for the small cache the launcher uses for it (a JVM maps every class of its
 * cache at start, so a cache of the daemon's 3,800 classes slows it down).
 * Without: walks the code paths of {@code start} (whose JVM goes on as the daemon), {@code delete} and the daemon —
 * flags, bundle annotations, the Task service over ttrpc, event forwarding, configuration.toml, the storage
 * planner on the live host, FFM calls, Cloud Hypervisor and agent messages — without a VM or containerd, so
 * the classes they load come from the cache afterwards. Touches nothing outside its own temp directory.
 */
public final class AotTraining {

    private AotTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("podvisor-aot-");
        try {
            if (args.length > 0 && args[0].equals("delete")) {
                DeleteTraining.train(dir);
            } else {
                train(dir);
            }
        } finally {
            try (var paths = Files.walk(dir)) {
                for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    private static void train(Path dir) throws Exception {
        ShimFlags flags = ShimFlags.parse(List.of("-namespace", "default", "-address", dir.resolve("c.sock").toString(),
                "-publish-binary", "/usr/bin/containerd", "-id", "training", "start"));
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
                 "root": {"path": "rootfs"}, "hostname": "training",
                 "annotations": {"io.kubernetes.cri.container-type": "sandbox"},
                 "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                            {"destination": "/dev/shm", "type": "bind", "source": "/dev/shm", "options": ["rbind"]},
                            {"destination": "/etc/hostname", "type": "bind", "source": "%s", "options": ["rbind", "ro"]}],
                 "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}], "resources": {"memory": {"limit": 1}}}}
                """.formatted(bundle.resolve("config.json")));
        PodGrouping.classify(flags.id(), BundleFiles.annotations(bundle));
        String uri = ShimAddress.uri(ShimAddress.socketPath(flags.address(), flags.namespace(), flags.id()));
        Path shimSocket = dir.resolve("shim.sock");
        StartCommand.connectable(shimSocket);
        ShimSocket.bind(shimSocket).close();
        BundleFiles.write(bundle, BundleFiles.ADDRESS, uri);
        BundleFiles.write(bundle, BundleFiles.SHIM_PID, Long.toString(ProcessHandle.current().pid()));
        PrintStream closed = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        closed.print(uri);
        closed.close();
        new ByteArrayOutputStream().writeBytes(DeleteResponse.newBuilder().setExitStatus(137).build().toByteArray());

        // configuration, planner, FFM, JSON models
        Path config = dir.resolve("configuration.toml");
        Files.writeString(config, "[hypervisor.clh]\npath = \"/bin/true\"\nkernel = \"/bin/true\"\n[agent.kata]\ndial_timeout = 1\n"
                + "[podvisor]\ndirect_volumes_root = \"" + dir.resolve("dv") + "\"\n");
        ConfigLoader.loadFile(config);
        var plan = PlanExplain.plan(bundle, List.of(new RootfsMount("overlay", "overlay", List.of("lowerdir=/l"))),
                Optional.of(config), Map.of(), "training", "training");
        PlanJson.toJson(plan, false);
        Linux.statfs("/");
        MountInfo.read();
        var settings = HypervisorSettings.kataDefaults(Path.of("/bin/true"), Path.of("/bin/true"), Path.of("/bin/true"), null, Path.of("/bin/true"));
        var vmConfig = VmConfigs.forSandbox(settings, dir, dir.resolve("fs.sock")).toJson();
        JsonTrees.toBytes(vmConfig);
        // vm.info's answer, as the sandbox reads it after boot (its readers' lambdas then come from the cache)
        VmInfo.fromJson(JsonTrees.parse(JsonTrees.toBytes(JsonTrees.NODES.objectNode().put("state", "Running")
                .put("memory_actual_size", 1L << 30).<com.fasterxml.jackson.databind.node.ObjectNode>set("config", vmConfig))));
        // the agent messages every pod writes and reads (CreateContainer's spec, a stats answer with map-like entries)
        var guestSpec = OciSpecConverter.toAgentSpec(JsonTrees.parse(bundle.resolve("config.json")));
        new ByteArrayOutputStream().writeBytes(CreateContainerRequest.newBuilder()
                .setContainerId("training").setOCI(guestSpec).build().toByteArray());
        CgroupMetrics.toContainerdV1(StatsContainerResponse.parseFrom(StatsContainerResponse.newBuilder()
                .setCgroupStats(CgroupStats.newBuilder().setMemoryStats(MemoryStats.newBuilder()
                        .addStats(Uint64Entry.newBuilder().setKey("cache").setValue(1))))
                .build().toByteArray()));

        // the daemon's log lines (timestamps) and its child processes (the VMM, virtiofsd), as a sandbox's boot has
        LogfmtLog log = new LogfmtLog(java.io.OutputStream.nullOutputStream(), LogfmtLog.Level.DEBUG, Map.of("sandbox", "training"));
        log.info("training", "step", "log");
        Process child = ChildProcesses.spawn(List.of("/bin/true"), dir.resolve("child.log"));
        ChildProcesses.awaitOrKill(child, Duration.ofSeconds(30));
        child.toHandle().info();
        ProcessHandle.current().descendants().count();

        // the daemon: Task service over ttrpc, events forwarded to a containerd-like Events service
        Path events = dir.resolve("events.sock");
        TtrpcServer eventServer = TtrpcServer.builder().service(TtrpcService.builder("containerd.services.events.ttrpc.v1.Events")
                .unary("Forward", ForwardRequest.parser(), (ctx, request) -> Empty.getDefaultInstance()).build()).build();
        TaskService tasks = new TaskService(options -> {
            throw new IllegalStateException("no VM in training");
        }, new EventPublisher(events.toString(), "default", LogfmtLog.discard()), log, () -> { });
        PodMetrics metrics = PodMetrics.forSandbox(Map.of("io.kubernetes.cri.sandbox-name", "training"));
        TtrpcServer taskServer = TtrpcServer.builder().requireSameUid(true).service(tasks.definition())
                .observer((call, nanos, code) -> metrics.taskRpc(call.method(), nanos)).build();
        try (ServerSocketChannel eventListener = listen(events); ServerSocketChannel taskListener = listen(dir.resolve("task.sock"))) {
            eventServer.serve(eventListener);
            taskServer.serve(taskListener);
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(dir.resolve("task.sock")));
            try (TtrpcClient client = TtrpcClient.over(channel)) {
                try {
                    client.call("containerd.task.v2.Task", "State", StateRequest.newBuilder().setId("x").build(),
                            StateResponse.parser(), Duration.ofSeconds(5));
                } catch (TtrpcException expected) {
                    // NOT_FOUND: no container
                }
                try {
                    client.call("containerd.task.v2.Task", "Connect", ConnectRequest.newBuilder().setId("x").build(),
                            ConnectResponse.parser(), Duration.ofSeconds(5), Map.of("containerd-namespace-ttrpc", "default"));
                } catch (TtrpcException expected) {
                    // NOT_FOUND
                }
            }
            tasks.oom("training");
            trainMetrics(dir, metrics, plan);
        } finally {
            taskServer.close();
            eventServer.close();
        }
        // the sandbox's persisted state (Jackson's record binding), as every sandbox writes and reads it
        Path vmDir = Files.createDirectories(dir.resolve("state/training"));
        SandboxState.initial("training", vmDir.toString(), dir.resolve("shared/training").toString()).save();
        SandboxState.load(vmDir);
        loadOwnClasses();
    }

    /**
     * Loads, without initialising, every class of the shim's own jars except the generated protocol messages,
     * so that the cache holds them: the sandbox's boot cannot run here (no VM), and a class the cache lacks is
     * read and verified from its jar at first use, on the pod's start path (338 such classes in the daemon of one
     * {@code ctr run} before). Classes that cannot load in this JVM are skipped. The protocol jar is left out: it
     * holds every message of the agent's API, most of which a shim never sends; only the messages named in the
     * signatures of the shim's own methods and fields are loaded, with their nested classes (builders).
     */
    private static void loadOwnClasses() throws Exception {
        ClassLoader loader = AotTraining.class.getClassLoader();
        for (Class<?> anchor : List.of(AotTraining.class, VmSandbox.class, CloudHypervisorProcess.class, Linux.class)) {
            Path jar = Path.of(anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(jar)) {
                continue; // a classes directory (tests): nothing to cache
            }
            try (JarFile classes = new JarFile(jar.toFile())) {
                for (String name : classes.stream().map(JarEntry::getName)
                        .filter(n -> n.endsWith(".class") && !n.endsWith("module-info.class")).toList()) {
                    try {
                        Class<?> own = Class.forName(name.substring(0, name.length() - ".class".length()).replace('/', '.'), false, loader);
                        loadMessagesOf(own);
                    } catch (ClassNotFoundException | LinkageError notHere) {
                        // a class of an optional path this JVM cannot load: left to its jar
                    }
                }
            }
        }
    }

    /** Loads the protobuf messages {@code own}'s methods and fields name, with their builders. */
    private static void loadMessagesOf(Class<?> own) {
        List<Class<?>> named = new java.util.ArrayList<>();
        for (var method : own.getDeclaredMethods()) {
            named.add(method.getReturnType());
            named.addAll(List.of(method.getParameterTypes()));
        }
        for (var field : own.getDeclaredFields()) {
            named.add(field.getType());
        }
        for (Class<?> type : named) {
            if (com.google.protobuf.Message.class.isAssignableFrom(type)) {
                type.getDeclaredClasses();
            }
        }
    }

    /** The management socket: the planner's counters, a hot-plug, and one scrape of /metrics. */
    private static void trainMetrics(Path dir, PodMetrics metrics, dev.podvisor.storage.plan.StoragePlan plan) throws java.io.IOException {
        metrics.planned(plan);
        metrics.hotplugged("disk", Duration.ofMillis(1));
        metrics.agentRpc("CreateContainer", 1_000_000);
        try (ManagementServer management = new ManagementServer("training", dir.resolve("bundle"), metrics, LogfmtLog.discard())) {
            SandboxProbe probe = new SandboxProbe(dir.resolve("sbs"), () -> 0, () -> 0, () -> "", "hvsock://training");
            metrics.onSandboxBooted(management::start);
            metrics.sandboxBooted(probe);
            UnixHttpClient.get(probe.socket("training"), "/metrics", Duration.ofSeconds(5));
        }
    }

    private static ServerSocketChannel listen(Path socket) throws java.io.IOException {
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        channel.bind(UnixDomainSocketAddress.of(socket));
        return channel;
    }
}
