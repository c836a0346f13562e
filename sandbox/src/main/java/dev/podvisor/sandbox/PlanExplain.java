package dev.podvisor.sandbox;

import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.storage.linux.LiveHostFacts;
import dev.podvisor.storage.plan.PlanInput;
import dev.podvisor.storage.plan.RootfsMount;
import dev.podvisor.storage.plan.StoragePlan;
import dev.podvisor.storage.plan.StoragePlanner;
import dev.podvisor.storage.spec.OciSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The plan the shim would make for a bundle, on the live host, without starting or mounting anything: what
 * {@code podvisor plan} prints and what the shim logs at create time.
 */
public final class PlanExplain {

    private PlanExplain() {
    }

    /**
     * Plans a bundle.
     *
     * @param bundle       directory with config.json
     * @param rootfs       the rootfs mounts containerd would pass (empty = a pre-mounted bundle rootfs)
     * @param configFile   a configuration.toml; empty = Kata's search order with {@code env}
     * @param sandboxId    the sandbox id (the container id itself for a single container)
     * @param containerId  the container id
     * @throws IllegalArgumentException naming the file, key or mount that cannot be planned
     */
    public static StoragePlan plan(Path bundle, List<RootfsMount> rootfs, Optional<Path> configFile,
                                   Map<String, String> env, String sandboxId, String containerId) {
        Path absolute = bundle.toAbsolutePath().normalize();
        OciSpec spec;
        try {
            spec = OciSpec.parse(Files.readAllBytes(absolute.resolve("config.json")));
        } catch (IOException e) {
            throw new IllegalArgumentException(absolute.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
        PodvisorConfig config = configFile.isPresent() ? ConfigLoader.loadFile(configFile.get())
                : loadOrDefaults(env);
        config = ConfigMapping.withAnnotations(config, spec.annotations());
        PlanInput input = new PlanInput(ContainerStorage.plannerSettings(config), sandboxId, containerId,
                sandboxId.equals(containerId), spec.annotations(), spec, rootfs, absolute);
        return StoragePlanner.plan(input, new LiveHostFacts(config.podvisor().directVolumesRoot()));
    }

    private static PodvisorConfig loadOrDefaults(Map<String, String> env) {
        try {
            return new ConfigLoader().load(Optional.empty(), env);
        } catch (IllegalArgumentException noConfigFound) {
            if (env.containsKey(ConfigLoader.KATA_CONF_FILE)) {
                throw noConfigFound;
            }
            return PodvisorConfig.defaults();
        }
    }
}
