package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.VmConfigs;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.sandbox.metrics.SandboxProbe;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Builds the metrics' view of a booted sandbox. */
final class SandboxProbes {

    /** How long a scrape waits for the agent's GetMetrics. */
    static final Duration AGENT_METRICS_TIMEOUT = Duration.ofSeconds(2);

    private SandboxProbes() {
    }

    /**
     * @return the probe: the VMM's and the kataShared virtiofsd's pids, the agent's metrics, and the agent URL
     *         as Kata prints it for Cloud Hypervisor ({@code hvsock://<vm dir>/clh.sock:1024}), and the direct
     *         volumes through the agent
     */
    static SandboxProbe of(PodvisorConfig config, Path vmDir, VirtualMachine vm, AgentClient agent) {
        return new SandboxProbe(config.podvisor().managementDir(), vm::vmmPid, () -> {
            List<Long> pids = vm.virtiofsdPids();
            return pids.isEmpty() ? 0 : pids.getFirst();
        }, () -> agent.metrics(AGENT_METRICS_TIMEOUT),
                "hvsock://" + vmDir.resolve(VmConfigs.VSOCK_SOCKET) + ":" + VmSandbox.AGENT_PORT,
                new AgentGuestVolumes(agent));
    }
}
