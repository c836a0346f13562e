package dev.podvisor.sandbox.config;

import java.time.Duration;
import java.util.List;

/**
 * The {@code [runtime]} table of configuration.toml (Kata Go src/runtime/pkg/katautils/config.go {@code runtime}).
 * Defaults are the values of Kata's shipped configuration-clh.toml (3.x).
 *
 * @param enableDebug                    {@code enable_debug}: shim debug logging; default false
 * @param internetworkingModel           {@code internetworking_model}: {@code tcfilter} | {@code macvtap} |
 *                                       {@code none} ({@code default} is read as {@code tcfilter}); default
 *                                       {@code tcfilter}
 * @param disableGuestSeccomp            {@code disable_guest_seccomp}: do not apply container seccomp profiles in
 *                                       the guest; default true
 * @param sandboxCgroupOnly              {@code sandbox_cgroup_only}: put all shim/VMM/virtiofsd threads in the
 *                                       sandbox cgroup only; default false
 * @param staticSandboxResourceMgmt      {@code static_sandbox_resource_mgmt}: size the VM at boot from the pod's
 *                                       resources and never hot-plug; default false
 * @param disableNewNetns                {@code disable_new_netns}: no network namespace for the VMM; only with
 *                                       {@code internetworking_model = "none"}; default false
 * @param sandboxBindMounts              {@code sandbox_bind_mounts}: host paths bound read-only into the sandbox's
 *                                       share for guest services, as written (the storage planner interprets the
 *                                       entries); default []
 * @param disableGuestEmptyDir           {@code disable_guest_empty_dir}: share disk emptyDirs from the host
 *                                       instead of creating them in the guest; default false (Kata 3.x; 4.0 ships
 *                                       true)
 * @param emptydirMode                   {@code emptydir_mode}: default {@code shared-fs}
 * @param experimental                   {@code experimental}: experimental features; Podvisor has none, so any
 *                                       entry is an error, as Kata's "Unsupported experimental feature"; default []
 * @param enablePprof                    {@code enable_pprof}: accepted for compatibility; default false
 * @param danConf                        {@code dan_conf}: directory of directly attachable network configs;
 *                                       default {@code /run/kata-containers/dans}
 * @param createContainerTimeoutSeconds  {@code create_container_timeout}: agent CreateContainer deadline in
 *                                       seconds; default 60
 */
public record RuntimeConfig(
        boolean enableDebug,
        String internetworkingModel,
        boolean disableGuestSeccomp,
        boolean sandboxCgroupOnly,
        boolean staticSandboxResourceMgmt,
        boolean disableNewNetns,
        List<String> sandboxBindMounts,
        boolean disableGuestEmptyDir,
        EmptyDirMode emptydirMode,
        List<String> experimental,
        boolean enablePprof,
        String danConf,
        int createContainerTimeoutSeconds) {

    /** Copies the lists so the record is immutable. */
    public RuntimeConfig {
        sandboxBindMounts = List.copyOf(sandboxBindMounts);
        experimental = List.copyOf(experimental);
    }

    /** @return the defaults, as from an empty {@code [runtime]} table */
    public static RuntimeConfig defaults() {
        return new RuntimeConfig(false, "tcfilter", true, false, false, false, List.of(), false,
                EmptyDirMode.SHARED_FS, List.of(), false, "/run/kata-containers/dans", 60);
    }

    /** @return {@code create_container_timeout} as a Duration */
    public Duration createContainerTimeout() {
        return Duration.ofSeconds(createContainerTimeoutSeconds);
    }
}
