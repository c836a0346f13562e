package dev.podvisor.sandbox;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.podvisor.hypervisor.ChildRegistry;
import dev.podvisor.hypervisor.clh.NetConfig;
import dev.podvisor.hypervisor.clh.TapNic;
import dev.podvisor.protocols.containerd.runtimeoptions.v1.Options;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.cgroup.Cgroups;
import dev.podvisor.sandbox.cgroup.SandboxCgroups;
import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.config.ExtraVirtiofsDevice;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.network.PodNetwork;
import dev.podvisor.sandbox.network.TcFilterNetwork;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.PrivateDirs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * The boot of a pod's {@link VmSandbox}, in Kata's order (kata-containers: src/runtime/virtcontainers/
 * {sandbox.go,clh.go,kata_agent.go}): configuration (runtime options' config_path, then Kata's search order,
 * then the pod's annotations), the pod network (a hostNetwork pod is refused before anything starts), the
 * state directory, cgroups, the shared directory, taps and tc wiring, virtiofsd and cloud-hypervisor with every
 * device cold-plugged, the agent over hybrid vsock and its Health.Check. Every step registers its undo; a
 * failure runs them in reverse, so a failed boot leaves no process, mount, socket, tap, cgroup or directory.
 */
final class SandboxBoot {

    private SandboxBoot() {
    }

    /**
     * @param launch what the shim knows of the sandbox: id, bundle, environment, runtime options, log, metrics
     * @return the booted sandbox, its agent healthy
     * @throws IllegalArgumentException for a bad configuration (naming the key and value)
     * @throws RuntimeException         when a boot step fails; nothing is left behind
     */
    static PodSandbox boot(SandboxLaunch launch) {
        LogfmtLog log = launch.log();
        PodvisorConfig config = loadConfig(launch);
        // before anything is started: a hostNetwork pod or an unsupported interface is refused here
        PodNetwork network = PodNetwork.plan(config.runtime().internetworkingModel(), BundleSpec.spec(launch.bundle()), log);
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            Path vmDir = config.podvisor().stateDir().resolve(launch.sandboxId());
            SocketPathLimit.check(config.podvisor().stateDir(), vmDir,
                    config.clh().extraVirtiofs().stream().map(ExtraVirtiofsDevice::name).toList());
            if (Files.exists(vmDir.resolve(SandboxState.FILE))) {
                throw new IllegalStateException("sandbox " + launch.sandboxId() + ": state already exists in " + vmDir);
            }
            PrivateDirs.create(vmDir);
            undo.push(() -> VmSandbox.deleteTree(vmDir));
            // the shim first: a later delete or sweep knows from this record whether the sandbox's owner is gone
            ChildRegistry.in(vmDir).record(ChildRegistry.SHIM, ProcessHandle.current().pid());
            // and the bundle names the state from now on: a shim killed during boot is undone by delete too
            SandboxCleanup.linkBundle(launch.bundle(), vmDir);
            SandboxCleanup.recordSandboxBundle(vmDir, launch.bundle());
            StaleSandboxSweep.inBackground(config.podvisor().stateDir(), log);
            Path shareRoot = config.podvisor().sharedRoot().resolve(launch.sandboxId());
            SandboxState state = SandboxState.initial(launch.sandboxId(), vmDir.toString(), shareRoot.toString());
            state.save();

            // Kata: the shim joins the sandbox (or overhead) cgroup before it starts the VMM and virtiofsd
            Optional<Cgroups> cgroups = SandboxCgroups.place(launch.bundle(), launch.sandboxId(),
                    config.runtime().sandboxCgroupOnly(), log);
            cgroups.ifPresent(owned -> undo.push(() -> SandboxCgroups.release(owned, log)));
            state = state.withCgroups(cgroups.map(Cgroups::created).orElse(List.of()));
            state.save();

            ContainerStorage storage = ContainerStorage.create(config, launch.sandboxId(), log);
            storage.observe(launch.metrics());
            undo.push(storage::releaseSandbox);

            List<TapNic> nics = new java.util.ArrayList<>();
            List<Integer> tapFds = List.of();
            if (!network.endpoints().isEmpty()) {
                SandboxState[] saved = {state};
                TcFilterNetwork.Wired wired = TcFilterNetwork.wire(network.netns().orElseThrow(), network.endpoints(),
                        record -> {
                            saved[0] = saved[0].withNetwork(record);
                            saved[0].save();
                        }, log);
                state = saved[0];
                undo.push(() -> TcFilterNetwork.undo(wired.record(), log));
                tapFds = wired.tapFds();
                for (int i = 0; i < tapFds.size(); i++) {
                    nics.add(new TapNic(NetConfig.forTapFd(network.endpoints().get(i).mac()),
                            new int[] {tapFds.get(i)}));
                }
            }
            VirtualMachine vm;
            try {
                vm = VirtualMachine.start(ConfigMapping.hypervisorSettings(config), vmDir,
                        storage.sharedDirectory(), storage.sandboxDevices(launch.bundle()), nics,
                        StartTimeouts.of(config).processStart(), log);
            } finally {
                tapFds.forEach(Linux::closeQuietly); // Cloud Hypervisor holds its own copies now
            }
            undo.push(vm::stop);
            cgroups.ifPresent(owned -> owned.constrainVcpus(Path.of("/proc"), vm.vmmPid(),
                    message -> log.warn("cgroup placement", "error", message)));
            state = state.withProcesses(vm.vmmPid(), vm.virtiofsdPids());
            state.save();
            storage.attachTo(vm);

            SocketChannel channel = vm.dialAgent(VmSandbox.AGENT_PORT, config.agent().dialTimeout());
            AgentClient agent = new AgentClient(TtrpcClient.over(channel), StartTimeouts.of(config).agentCall());
            undo.push(agent::close);
            agent.observeCalls(launch.metrics()::agentRpc);
            if (!agent.healthy()) {
                throw new IllegalStateException("the guest agent answered Health.Check with NOT_SERVING");
            }
            VmSandbox sandbox = new VmSandbox(launch, config, vm, agent, storage, cgroups, state, network);
            sandbox.watchOom();
            agent.onClose(() -> {
                if (!sandbox.isShutDown()) {
                    log.error("lost the connection to the guest agent");
                }
            });
            log.info("sandbox ready", "vmm_pid", vm.vmmPid(), "vm_dir", vmDir);
            launch.metrics().sandboxBooted(SandboxProbes.of(config, vmDir, vm, agent));
            return sandbox;
        } catch (IOException e) {
            VmSandbox.runAll(undo, log);
            throw new UncheckedIOException("booting sandbox " + launch.sandboxId() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            VmSandbox.runAll(undo, log);
            throw e;
        }
    }

    /** The configuration: runtime options' config_path first, then Kata's search order. */
    static PodvisorConfig loadConfig(SandboxLaunch launch) {
        Optional<Path> configPath = Optional.empty();
        Any options = launch.runtimeOptions();
        if (options != null && !options.getValue().isEmpty()) {
            try {
                Options runtimeOptions = Options.parseFrom(options.getValue());
                if (!runtimeOptions.getConfigPath().isEmpty()) {
                    configPath = Optional.of(Path.of(runtimeOptions.getConfigPath()));
                }
            } catch (InvalidProtocolBufferException e) {
                launch.log().debug("runtime options are not runtimeoptions.v1.Options", "type_url", options.getTypeUrl());
            }
        }
        PodvisorConfig config = new ConfigLoader().load(configPath, launch.env());
        config = ConfigMapping.withAnnotations(config, BundleSpec.annotations(launch.bundle()));
        if (config.runtime().enableDebug()) {
            launch.log().enableDebug();
        }
        for (String warning : config.warnings()) {
            launch.log().warn("configuration", "warning", warning);
        }
        if (!config.unknownKeys().isEmpty()) {
            launch.log().warn("configuration has unknown keys", "keys", String.join(",", config.unknownKeys()));
        }
        config.validatePaths();
        return config;
    }
}
