package dev.podvisor.hypervisor.clh;

/**
 * {@code CpusConfig.topology} (OpenAPI {@code CpuTopology}); null fields take Cloud Hypervisor's defaults.
 *
 * @param threadsPerCore threads per core
 * @param coresPerDie    cores per die
 * @param diesPerPackage dies per package
 * @param packages       packages (sockets)
 */
public record CpuTopology(Integer threadsPerCore, Integer coresPerDie, Integer diesPerPackage, Integer packages) {
}
