package dev.podvisor.sandbox.metrics;

import java.nio.file.Path;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * What the metrics need from a booted sandbox.
 *
 * @param managementDir  {@code [podvisor] management_dir}: the shim serves {@code <dir>/<sandbox id>/shim-monitor.sock}
 * @param vmmPid         the hypervisor's pid (0 when gone)
 * @param virtiofsdPid   the {@code kataShared} virtiofsd's pid (0 when none)
 * @param agentMetrics   the agent's GetMetrics answer (Prometheus text); throws {@code TtrpcException} on failure
 * @param agentUrl       the agent's address as Kata prints it, e.g. {@code hvsock:///run/podvisor/<sid>/clh.sock:1024}
 * @param volumes        the direct volumes' guest side (stats, resize) for the management API
 */
public record SandboxProbe(Path managementDir, LongSupplier vmmPid, LongSupplier virtiofsdPid,
                           Supplier<String> agentMetrics, String agentUrl, GuestVolumes volumes) {

    /** A probe without direct-volume access ({@link GuestVolumes#NONE}). */
    public SandboxProbe(Path managementDir, LongSupplier vmmPid, LongSupplier virtiofsdPid,
                        Supplier<String> agentMetrics, String agentUrl) {
        this(managementDir, vmmPid, virtiofsdPid, agentMetrics, agentUrl, GuestVolumes.NONE);
    }

    /** Kata's name of the management socket in the sandbox's storage directory. */
    public static final String SOCKET_NAME = "shim-monitor.sock";

    /** {@code <managementDir>/<sandboxId>/shim-monitor.sock}. */
    public Path socket(String sandboxId) {
        return managementDir.resolve(sandboxId).resolve(SOCKET_NAME);
    }
}
