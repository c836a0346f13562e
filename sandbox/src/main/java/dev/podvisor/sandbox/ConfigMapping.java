package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.sandbox.config.HypervisorConfig;
import dev.podvisor.sandbox.config.PodvisorConfig;

import java.nio.file.Path;

/** Maps the Kata-compatible configuration onto what the hypervisor module needs. */
final class ConfigMapping {

    private ConfigMapping() {
    }

    /** The {@code [hypervisor.clh]} table as hypervisor settings (vCPUs resolved against this host). */
    static HypervisorSettings hypervisorSettings(PodvisorConfig config) {
        HypervisorConfig clh = config.clh();
        int hostCpus = Runtime.getRuntime().availableProcessors();
        return new HypervisorSettings(path(clh.path()), path(clh.kernel()), path(clh.initrd()), path(clh.image()),
                clh.kernelParams(), clh.bootVcpus(hostCpus), clh.defaultMemoryMib(), path(clh.virtioFsDaemon()),
                clh.virtioFsCache().tomlName(), clh.virtioFsExtraArgs(), clh.virtioFsQueueSize(),
                clh.enableDebug() || config.runtime().enableDebug(), !clh.disableSeccomp());
    }

    private static Path path(String value) {
        return value == null || value.isEmpty() ? null : Path.of(value);
    }
}
