package dev.podvisor.sandbox;

import com.google.protobuf.Any;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.ExecProcessRequest;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.StatsContainerResponse;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.UpdateContainerRequest;
import dev.podvisor.protocols.agent.LinuxResources;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.agent.OciSpecConverter;
import dev.podvisor.sandbox.cgroup.Cgroups;
import dev.podvisor.sandbox.cgroup.SandboxCgroups;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.network.AgentNetwork;
import dev.podvisor.sandbox.network.PodNetwork;
import dev.podvisor.sandbox.network.TcFilterNetwork;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pod's VM on Cloud Hypervisor with the kata agent inside, driven the way Kata's runtimes drive it
 * (kata-containers: src/runtime/virtcontainers/{sandbox.go,kata_agent.go,clh.go}). {@link SandboxBoot} boots it
 * (network, taps, virtiofsd, cloud-hypervisor, the agent); this class then sends the network messages and
 * CreateSandbox (DNS, the virtio-fs share, the sandbox {@code /dev/shm}) with the first container, and per
 * container plans its storage, sets it up on the host and in the VM and calls CreateContainer; at the end it
 * tears everything down ({@link #shutdown}: containers, DestroySandbox, the pod's storage, the VMM, virtiofsd,
 * then cgroups, taps and tc wiring and the share mounts together, the state last), each step timed in the
 * debug log.
 */
public final class VmSandbox implements PodSandbox {

    /** Guest mount point of the kataShared virtio-fs device (Kata: defaultKataGuestSharedDir). */
    public static final String GUEST_SHARED_DIR = "/run/kata-containers/shared/containers/";
    /** Guest mount point of the sandbox-wide /dev/shm tmpfs. */
    public static final String GUEST_SHM_DIR = "/run/kata-containers/sandbox/shm";
    /** The agent's vsock port (Kata: DEFAULT_AGENT_VSOCK_PORT). */
    public static final int AGENT_PORT = 1024;
    private static final int SIGKILL = 9;

    private final SandboxLaunch launch;
    private final PodvisorConfig config;
    private final LogfmtLog log;
    private final VirtualMachine vm;
    private final AgentClient agent;
    private final ContainerStorage storage;
    private final Optional<Cgroups> cgroups;
    private final Map<String, ProcessIo> io = new ConcurrentHashMap<>();
    private volatile SandboxState state;
    private volatile boolean shutDown;
    private boolean sandboxCreated;

    private final PodNetwork network;

    VmSandbox(SandboxLaunch launch, PodvisorConfig config, VirtualMachine vm, AgentClient agent,
                      ContainerStorage storage, Optional<Cgroups> cgroups, SandboxState state, PodNetwork network) {
        this.launch = launch;
        this.network = network;
        this.config = config;
        this.log = launch.log();
        this.vm = vm;
        this.agent = agent;
        this.storage = storage;
        this.cgroups = cgroups;
        this.state = state;
    }

    /**
     * Boots the pod's VM and creates the sandbox in the guest ({@link SandboxBoot#boot}).
     *
     * @throws IllegalArgumentException for a bad configuration (naming the key and value)
     * @throws RuntimeException         when a boot step fails; nothing is left behind
     */
    public static PodSandbox boot(SandboxLaunch launch) {
        return SandboxBoot.boot(launch);
    }

    /** Whether {@link #shutdown} has begun (the agent connection's loss is then expected). */
    boolean isShutDown() {
        return shutDown;
    }

    void watchOom() {
        Thread.ofVirtual().name("oom-watcher").start(() -> {
            while (!shutDown) {
                try {
                    String containerId = agent.getOomEvent();
                    log.warn("container hit its memory limit", "container", containerId);
                    launch.oomListener().accept(containerId);
                } catch (TtrpcException e) {
                    if (e.code() == Code.UNAVAILABLE || shutDown) {
                        return;
                    }
                    if (e.code() == Code.UNIMPLEMENTED || e.code() == Code.NOT_FOUND) {
                        return; // an agent without OOM events
                    }
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------ containers

    @Override
    public void createContainer(ContainerRequest request) {
        ContainerStorage.Prepared prepared = storage.prepare(request);
        try {
            createSandboxOnce(prepared);
            agent.createContainer(prepared.createRequest());
            storage.resizeEphemeral(agent, prepared.storages(), prepared.plan().storages());
        } catch (RuntimeException e) {
            try {
                storage.release(request.id(), prepared.hostSetup());
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
                log.error("undoing a failed create left something behind", "container", request.id(), "error", String.valueOf(undo));
            }
            state = state.withPodSetup(storage.podSetup()); // pod-scoped storage stays with the sandbox
            state.save();
            throw e;
        }
        state = state.withContainer(request.id(), new SandboxState.ContainerState(request.bundle(), prepared.hostSetup()))
                .withPodSetup(storage.podSetup());
        state.save();
        SandboxCleanup.linkBundle(Path.of(request.bundle()), Path.of(state.vmDir()));
        ioFor(request.id(), "", request.stdio());
    }

    /**
     * CreateSandbox, sent once, before the first container: the sandbox-wide storages (virtio-fs devices,
     * {@code /dev/shm}) come from the first container's plan, which is the pod's sandbox container (or the
     * single container), so the shm size follows its {@code /dev/shm} mount.
     */
    private synchronized void createSandboxOnce(ContainerStorage.Prepared first) {
        if (sandboxCreated) {
            return;
        }
        for (var device : first.plan().virtioFsDevices()) {
            if (!vm.hasVirtiofsDevice(device.name())) { // normally cold-plugged at boot already
                vm.addVirtiofsDevice(device.name(), device.virtiofsArgs(), storage.sharedDirectory(device.name()));
            }
        }
        List<Storage> sandboxStorages = first.plan().sandboxStorages().stream().map(ContainerStorage::toAgent).toList();
        // Kata Go startSandbox: interfaces, routes and neighbours before CreateSandbox
        AgentNetwork.apply(agent, network.endpoints(), log);
        agent.createSandbox(CreateSandboxRequest.newBuilder()
                .setHostname(BundleSpec.hostname(launch.bundle()))
                .addAllDns(PodNetwork.dns(BundleSpec.spec(launch.bundle())))
                .addAllStorages(sandboxStorages)
                .setSandboxId(launch.sandboxId())
                .setSandboxPidns(false)
                .build());
        storage.resizeEphemeral(agent, sandboxStorages, first.plan().sandboxStorages());
        sandboxCreated = true;
        state = state.withProcesses(vm.vmmPid(), vm.virtiofsdPids());
        state.save();
    }

    @Override
    public void startContainer(String containerId) {
        agent.startContainer(containerId);
        io.get(key(containerId, "")).start();
    }

    @Override
    public void startExec(String containerId, String execId, byte[] processJson, ProcessStdio stdio) {
        Process process;
        try {
            process = OciSpecConverter.merge(JsonTrees.parse(processJson), Process.newBuilder(), "").build();
        } catch (IOException e) {
            throw new IllegalArgumentException("exec " + containerId + "/" + execId + ": process spec is not JSON: "
                    + e.getMessage());
        }
        agent.execProcess(ExecProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                .setProcess(process).build());
        ioFor(containerId, execId, stdio).start();
    }

    @Override
    public int waitProcess(String containerId, String execId) {
        int status = agent.waitProcess(containerId, execId);
        ProcessIo processIo = io.get(key(containerId, execId));
        if (processIo != null && !processIo.awaitOutput(ProcessIo.OUTPUT_WAIT)) {
            log.warn("output still copying 10 s after exit; reporting the exit anyway", "container", containerId, "exec", execId);
        }
        return status;
    }

    @Override
    public void signal(String containerId, String execId, int signal, boolean all) {
        try {
            agent.signalProcess(containerId, execId, signal);
        } catch (TtrpcException e) {
            if (signal == SIGKILL && AgentFaults.unreachable(e, vm)) {
                // a hung or lost agent cannot kill anything: stopping the VM does, and ends every wait
                log.error("the guest agent does not answer; stopping the VM to carry out SIGKILL",
                        "container", containerId, "error", e.getMessage());
                vm.stop();
                return;
            }
            throw e;
        }
    }

    @Override
    public void resizePty(String containerId, String execId, int rows, int columns) {
        agent.ttyWinResize(containerId, execId, rows, columns);
    }

    @Override
    public void closeStdin(String containerId, String execId) {
        ProcessIo processIo = io.get(key(containerId, execId));
        if (processIo != null) {
            processIo.closeStdin();
        }
    }

    @Override
    public void pauseContainer(String containerId) {
        agent.pauseContainer(containerId);
    }

    @Override
    public void resumeContainer(String containerId) {
        agent.resumeContainer(containerId);
    }

    @Override
    public void updateContainer(String containerId, byte[] resourcesJson) {
        LinuxResources resources;
        try {
            resources = OciSpecConverter.merge(JsonTrees.parse(resourcesJson), LinuxResources.newBuilder(), "resources").build();
        } catch (IOException e) {
            throw new IllegalArgumentException("update " + containerId + ": resources are not JSON: " + e.getMessage());
        }
        agent.updateContainer(UpdateContainerRequest.newBuilder().setContainerId(containerId).setResources(resources).build());
    }

    @Override
    public Any stats(String containerId) {
        StatsContainerResponse stats = agent.statsContainer(containerId);
        return CgroupMetrics.toContainerdV1(stats);
    }

    @Override
    public void removeContainer(String containerId) {
        TeardownSteps.timed("agent-remove-container", () -> removeInGuest(containerId), log);
        TeardownSteps.timed("close-io", () -> io.entrySet().removeIf(entry -> {
            if (entry.getKey().startsWith(containerId + "/")) {
                entry.getValue().close();
                return true;
            }
            return false;
        }), log);
        SandboxState.ContainerState container = state.containers().get(containerId);
        if (container != null) {
            TeardownSteps.timed("release-container-storage", () -> storage.release(containerId, container.hostSetup()), log);
        }
        state = state.withoutContainer(containerId);
        TeardownSteps.timed("save-state", state::save, log);
    }

    private void removeInGuest(String containerId) {
        try {
            agent.withRequestTimeout(AgentFaults.TEARDOWN_CALL).removeContainer(containerId, 0);
        } catch (TtrpcException e) {
            if (AgentFaults.unreachable(e, vm)) {
                // the VM or its agent is gone, so is the container: still undo the host side (issue 8, case 1)
                log.warn("the guest agent is unreachable; treating the container as gone", "container", containerId,
                        "error", e.getMessage());
            } else if (e.code() != Code.NOT_FOUND) {
                throw e;
            }
        }
    }

    @Override
    public void removeExec(String containerId, String execId) {
        ProcessIo processIo = io.remove(key(containerId, execId));
        if (processIo != null) {
            processIo.close();
        }
    }

    @Override
    public int vmmPid() {
        return (int) vm.vmmPid();
    }

    /**
     * Tears the pod down ({@link TeardownSteps}: every step runs, a failing one is logged and the rest go on).
     * The order follows what depends on what: containers and DestroySandbox while the agent answers; the pod's
     * volumes while the VM can still unplug their disks; the VMM before virtiofsd (the VM's shutdown may still
     * use it); the cgroups, the taps and the share mounts only once no process holds them, and together; the
     * state directory last, since until then it tells {@code delete} what is left to undo. Safe to call twice.
     */
    @Override
    public synchronized void shutdown() {
        if (shutDown) {
            return;
        }
        shutDown = true;
        long start = System.nanoTime();
        TeardownSteps steps = new TeardownSteps();
        for (String containerId : state.containers().keySet()) {
            steps.then("remove-container", () -> removeContainer(containerId));
        }
        steps.then("destroy-sandbox", () -> {
            try {
                if (sandboxCreated && vm.isAlive()) {
                    agent.withRequestTimeout(AgentFaults.TEARDOWN_CALL).destroySandbox();
                }
            } catch (TtrpcException e) {
                log.warn("DestroySandbox failed", "error", e.getMessage());
            }
        });
        steps.then("agent-close", agent::close);
        steps.then("release-pod-storage", storage::releasePod); // the pod's volumes end with the sandbox
        steps.then("vmm-stop", vm::stopVmm);
        steps.then("virtiofsd-stop", vm::stopVirtiofsds); // after the VMM: the VM's shutdown may still use them
        // every process is gone: the taps are free, the cgroups empty, no virtiofsd holds a share; these three
        // touch different things (cgroupfs, the pod netns, the share mounts), so they run together
        List<TeardownSteps.Step> released = new ArrayList<>();
        cgroups.ifPresent(owned -> released.add(TeardownSteps.step("cgroups-release", () -> SandboxCgroups.release(owned, log))));
        released.add(TeardownSteps.step("network-undo", () -> TcFilterNetwork.undo(state.network(), log)));
        released.add(TeardownSteps.step("release-shares", storage::releaseSandbox));
        steps.together(released);
        steps.then("delete-state", () -> deleteTree(Path.of(state.vmDir()))); // last: until then it tells `delete` what is left to undo
        steps.run(log);
        log.info("sandbox torn down", "duration_ms", (System.nanoTime() - start) / 1_000_000);
    }

    private ProcessIo ioFor(String containerId, String execId, ProcessStdio stdio) {
        ProcessIo processIo = new ProcessIo(agent, containerId, execId, stdio, log);
        io.put(key(containerId, execId), processIo);
        return processIo;
    }

    private static String key(String containerId, String execId) {
        return containerId + "/" + execId;
    }

    static void runAll(Deque<Runnable> steps, LogfmtLog log) {
        while (!steps.isEmpty()) {
            try {
                steps.pop().run();
            } catch (RuntimeException e) {
                log.warn("cleanup step failed", "error", String.valueOf(e));
            }
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("removing " + dir + ": " + e.getMessage(), e);
        }
    }
}
