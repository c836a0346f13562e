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
                clh.enableDebug() || config.runtime().enableDebug(), !clh.disableSeccomp(),
                dev.podvisor.hypervisor.virtiofs.VirtiofsdStyle.of(clh.virtioFsDaemonStyle()));
    }

    /**
     * The configuration with the sandbox's {@code io.katacontainers.config.*} annotations applied (Kata's
     * {@code enable_annotations} gate), except {@code extra_virtiofs}: the storage planner owns that one, because
     * it checks {@code special_volumes} against the devices it declares.
     */
    static PodvisorConfig withAnnotations(PodvisorConfig config, java.util.Map<String, String> annotations) {
        java.util.Map<String, String> forConfig = new java.util.HashMap<>(annotations);
        forConfig.remove(dev.podvisor.sandbox.config.ConfigAnnotations.HYPERVISOR_PREFIX + "extra_virtiofs");
        return dev.podvisor.sandbox.config.ConfigAnnotations.apply(config, forConfig);
    }

    private static Path path(String value) {
        return value == null || value.isEmpty() ? null : Path.of(value);
    }
}
