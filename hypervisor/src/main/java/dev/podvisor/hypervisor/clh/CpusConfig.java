package dev.podvisor.hypervisor.clh;

/**
 * {@code VmConfig.cpus} (OpenAPI {@code CpusConfig}).
 *
 * @param bootVcpus   vCPUs at boot (required, ≥ 1)
 * @param maxVcpus    vCPU ceiling for hot-plug (required, ≥ bootVcpus)
 * @param topology    optional topology, or null
 * @param maxPhysBits optional guest physical address bits, or null
 */
public record CpusConfig(int bootVcpus, int maxVcpus, CpuTopology topology, Integer maxPhysBits) {
}
