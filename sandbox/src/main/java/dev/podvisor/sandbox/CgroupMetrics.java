package dev.podvisor.sandbox;

import com.google.protobuf.Any;
import dev.podvisor.protocols.agent.CgroupStats;
import dev.podvisor.protocols.agent.StatsContainerResponse;
import dev.podvisor.protocols.containerd.cgroups.v1.CPUStat;
import dev.podvisor.protocols.containerd.cgroups.v1.CPUUsage;
import dev.podvisor.protocols.containerd.cgroups.v1.MemoryEntry;
import dev.podvisor.protocols.containerd.cgroups.v1.MemoryStat;
import dev.podvisor.protocols.containerd.cgroups.v1.Metrics;
import dev.podvisor.protocols.containerd.cgroups.v1.NetworkStat;
import dev.podvisor.protocols.containerd.cgroups.v1.PidsStat;
import dev.podvisor.protocols.containerd.cgroups.v1.Throttle;

/**
 * Turns the agent's {@code StatsContainerResponse} into the cgroup v1 {@code Metrics} containerd expects in
 * StatsResponse, type URL {@code io.containerd.cgroups.v1.Metrics} (what Kata runtime-rs always sends; Kata
 * Go: src/runtime/pkg/containerd-shim-v2/metrics.go).
 */
public final class CgroupMetrics {

    /** The Any type URL containerd decodes cgroup v1 metrics from. */
    public static final String V1_TYPE_URL = "io.containerd.cgroups.v1.Metrics";

    private CgroupMetrics() {
    }

    public static Any toContainerdV1(StatsContainerResponse stats) {
        CgroupStats cgroup = stats.getCgroupStats();
        var cpu = cgroup.getCpuStats();
        var memory = cgroup.getMemoryStats();
        Metrics.Builder metrics = Metrics.newBuilder()
                .setPids(PidsStat.newBuilder().setCurrent(cgroup.getPidsStats().getCurrent())
                        .setLimit(cgroup.getPidsStats().getLimit()))
                .setCpu(CPUStat.newBuilder()
                        .setUsage(CPUUsage.newBuilder().setTotal(cpu.getCpuUsage().getTotalUsage())
                                .setKernel(cpu.getCpuUsage().getUsageInKernelmode())
                                .setUser(cpu.getCpuUsage().getUsageInUsermode())
                                .addAllPerCpu(cpu.getCpuUsage().getPercpuUsageList()))
                        .setThrottling(Throttle.newBuilder().setPeriods(cpu.getThrottlingData().getPeriods())
                                .setThrottledPeriods(cpu.getThrottlingData().getThrottledPeriods())
                                .setThrottledTime(cpu.getThrottlingData().getThrottledTime())))
                .setMemory(MemoryStat.newBuilder()
                        .setCache(memory.getCache())
                        .setUsage(entry(memory.getUsage()))
                        .setSwap(entry(memory.getSwapUsage()))
                        .setKernel(entry(memory.getKernelUsage())));
        for (var network : stats.getNetworkStatsList()) {
            metrics.addNetwork(NetworkStat.newBuilder().setName(network.getName())
                    .setRxBytes(network.getRxBytes()).setRxPackets(network.getRxPackets())
                    .setRxErrors(network.getRxErrors()).setRxDropped(network.getRxDropped())
                    .setTxBytes(network.getTxBytes()).setTxPackets(network.getTxPackets())
                    .setTxErrors(network.getTxErrors()).setTxDropped(network.getTxDropped()));
        }
        return Any.newBuilder().setTypeUrl(V1_TYPE_URL).setValue(metrics.build().toByteString()).build();
    }

    private static MemoryEntry entry(dev.podvisor.protocols.agent.MemoryData data) {
        return MemoryEntry.newBuilder().setUsage(data.getUsage()).setMax(data.getMaxUsage())
                .setFailcnt(data.getFailcnt()).setLimit(data.getLimit()).build();
    }
}
