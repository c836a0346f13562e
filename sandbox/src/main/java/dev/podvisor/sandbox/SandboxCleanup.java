package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.hypervisor.ChildRegistry;
import dev.podvisor.sandbox.cgroup.SandboxCgroups;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.network.TcFilterNetwork;
import dev.podvisor.storage.exec.AttachedDisk;
import dev.podvisor.storage.exec.DiskAttacher;
import dev.podvisor.storage.exec.ExecutionRecord;
import dev.podvisor.storage.exec.PlanExecutor;
import dev.podvisor.storage.exec.SandboxDisks;
import dev.podvisor.storage.exec.SandboxShares;
import dev.podvisor.storage.exec.ShareRootSweep;
import dev.podvisor.storage.linux.HostMounts;
import dev.podvisor.storage.plan.GuestPaths;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code containerd-shim-kata-v2 delete} undoes when the daemon may be gone (containerd calls it after
 * every task delete and whenever it lost a shim). It reads the sandbox state the daemon persisted and:
 * for the sandbox (or single) container, stops the daemon and the VM's processes, removes the taps and tc
 * wiring it made in the pod netns, undoes every container's host setup and the pod's (pod-scoped shares and
 * disks), removes the cgroups it created, the shares and the state; for another container of a pod, undoes only that
 * container's host setup, and only when the daemon is gone. In every case the bundle's {@code rootfs} is
 * unmounted if it is still a mount point. Idempotent: a second call finds nothing to do.
 */
public final class SandboxCleanup {

    /** The bundle file naming the sandbox's state directory. */
    public static final String BUNDLE_LINK = "podvisor-sandbox";

    private SandboxCleanup() {
    }

    /**
     * Writes {@code <vmDir>/bundle} with the sandbox container's bundle, so a later sweep can find the shim's
     * socket through the bundle's {@code address} ({@link StaleShimSocket}).
     */
    static void recordSandboxBundle(Path vmDir, Path bundle) {
        try {
            Files.writeString(vmDir.resolve(BUNDLE_FILE), bundle.toAbsolutePath().toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + vmDir.resolve(BUNDLE_FILE) + ": " + e.getMessage(), e);
        }
    }

    /** The sandbox container's bundle recorded by {@link #recordSandboxBundle}, if any. */
    static Optional<Path> sandboxBundle(Path vmDir) {
        return read(vmDir.resolve(BUNDLE_FILE)).map(Path::of);
    }

    /** Writes {@code <bundle>/podvisor-sandbox} with the sandbox's VM directory. */
    static void linkBundle(Path bundle, Path vmDir) {
        try {
            Files.writeString(bundle.resolve(BUNDLE_LINK), vmDir.toString(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + bundle.resolve(BUNDLE_LINK) + ": " + e.getMessage(), e);
        }
    }

    /**
     * Cleans up after container {@code containerId} of the bundle {@code bundle}.
     *
     * @param daemonPid the shim daemon's pid from the bundle's {@code shim.pid}, if any
     */
    public static void cleanupContainer(Path bundle, String containerId, Optional<Long> daemonPid, LogfmtLog log) {
        Optional<Path> vmDir = read(bundle.resolve(BUNDLE_LINK)).map(Path::of);
        Optional<SandboxState> state = vmDir.flatMap(SandboxState::load);
        boolean daemonAlive = daemonPid.flatMap(ProcessHandle::of).map(ProcessHandle::isAlive).orElse(false);
        if (state.isPresent()) {
            SandboxState sandbox = state.get();
            if (containerId.equals(sandbox.sandboxId())) {
                tearDownSandbox(sandbox, daemon(daemonPid, sandbox.sandboxId()), log);
                StaleShimSocket.removeIfDead(bundle, log);
            } else if (!daemonAlive && sandbox.containers().containsKey(containerId)) {
                undoContainer(sandbox, containerId, log);
            }
        } else if (vmDir.isEmpty() && !daemonAlive) {
            StaleShimSocket.removeIfDead(bundle, log); // a daemon that died before it made any state
        }
        Path rootfs = bundle.resolve("rootfs");
        try {
            while (HostMounts.isMountPoint(rootfs)) {
                HostMounts.unmount(rootfs);
            }
        } catch (RuntimeException e) {
            log.warn("unmounting the bundle rootfs failed", "rootfs", rootfs, "error", e.getMessage());
        }
        try {
            Files.deleteIfExists(bundle.resolve(BUNDLE_LINK));
        } catch (IOException e) {
            log.warn("removing the bundle link failed", "error", e.getMessage());
        }
    }

    /** How long stopping every process of a sandbox may take: well inside containerd's 5 s for {@code delete}. */
    static final Duration STOP_BUDGET = Duration.ofMillis(2500);

    /**
     * Undoes a whole sandbox from its persisted state: stops every process it recorded (and {@code extra}, e.g.
     * the daemon named by the bundle) at once within {@link #STOP_BUDGET}, undoes each container's host setup,
     * removes the shares and the state directory. Never talks to the VM or the agent.
     */
    static void tearDownSandbox(SandboxState sandbox, List<ChildRegistry.Child> extra, LogfmtLog log) {
        List<ChildRegistry.Child> processes = new ArrayList<>(extra);
        processes.addAll(ChildRegistry.in(Path.of(sandbox.vmDir())).children());
        List<Long> legacy = new ArrayList<>(sandbox.virtiofsdPids());
        legacy.addFirst(sandbox.vmmPid());
        for (long pid : legacy) { // states written before the registry existed: the pid only
            if (pid > 0 && processes.stream().noneMatch(c -> c.pid() == pid)) {
                ChildRegistry.startTicks(pid).ifPresent(t -> processes.add(new ChildRegistry.Child("recorded", pid, t)));
            }
        }
        List<ChildRegistry.Child> left = ChildRegistry.stopAll(processes, STOP_BUDGET);
        if (!left.isEmpty()) {
            log.warn("processes survived SIGKILL", "pids", left.stream().map(c -> Long.toString(c.pid())).toList());
        }
        try {
            TcFilterNetwork.undo(sandbox.network(), log); // the VMM is gone: the taps are free
        } catch (RuntimeException e) {
            log.warn("removing the pod's taps and tc wiring failed", "error", e.getMessage());
        }
        PlanExecutor executor = executor(sandbox);
        for (var entry : sandbox.containers().entrySet()) {
            undo(executor, entry.getKey(), entry.getValue().hostSetup(), log);
        }
        undoPod(executor, sandbox.podSetup(), log);
        SandboxShares shares = new SandboxShares(Path.of(sandbox.shareRoot()).getParent(), sandbox.sandboxId(),
                new HostMountOperations());
        try {
            shares.teardown(GuestPaths.KATA_SHARED);
        } catch (RuntimeException e) {
            log.warn("removing the shares failed", "error", e.getMessage());
        }
        // whatever no record names (extra devices' shares, a container whose create was cut short)
        List<String> stuck = ShareRootSweep.sweep(Path.of(sandbox.shareRoot()));
        if (!stuck.isEmpty()) {
            log.warn("mounts under the share tree could not be removed", "mounts", String.join(",", stuck));
        }
        try {
            VmSandbox.deleteTree(Path.of(sandbox.vmDir()));
        } catch (RuntimeException e) { // e.g. a concurrent sweep removed part of it first
            log.warn("removing the state directory failed", "dir", sandbox.vmDir(), "error", e.getMessage());
        }
        SandboxCgroups.removeRecorded(sandbox.cgroups(), log); // last: the slowest step, and nothing depends on it
    }

    /** The file in the state directory naming the sandbox container's bundle (for the sweep's socket check). */
    static final String BUNDLE_FILE = "bundle";

    /**
     * The daemon named by the bundle's {@code shim.pid}, as a process to stop, only while that pid is a shim
     * daemon serving {@code sandboxId} (a reused pid is left alone).
     */
    private static List<ChildRegistry.Child> daemon(Optional<Long> daemonPid, String sandboxId) {
        if (daemonPid.isEmpty()) {
            return List.of();
        }
        long pid = daemonPid.get();
        String cmdline = ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("");
        if (!cmdline.contains("dev.podvisor.shim.ShimMain")
                || !(cmdline.endsWith(" -id " + sandboxId) || cmdline.contains(" -id " + sandboxId + " "))) {
            return List.of();
        }
        return ChildRegistry.startTicks(pid).map(t -> List.of(new ChildRegistry.Child("shim", pid, t))).orElse(List.of());
    }

    private static void undoContainer(SandboxState sandbox, String containerId, LogfmtLog log) {
        undo(executor(sandbox), containerId, sandbox.containers().get(containerId).hostSetup(), log);
        sandbox.withoutContainer(containerId).save();
    }

    private static PlanExecutor executor(SandboxState sandbox) {
        // the VM is gone: a disk release has nothing to detach from
        DiskAttacher noVm = new DiskAttacher() {
            @Override
            public AttachedDisk attach(Path hostPath, boolean readOnly) {
                throw new IllegalStateException("no VM to attach " + hostPath + " to");
            }

            @Override
            public void detach(String id) {
            }
        };
        return new PlanExecutor(new HostMountOperations(),
                new SandboxShares(Path.of(sandbox.shareRoot()).getParent(), sandbox.sandboxId(), new HostMountOperations()),
                new SandboxDisks(noVm));
    }

    private static void undo(PlanExecutor executor, String containerId, JsonNode hostSetup, LogfmtLog log) {
        if (hostSetup == null || hostSetup.isNull()) {
            return;
        }
        try {
            ExecutionRecord record = ExecutionRecord.fromJson(hostSetup);
            executor.restore(record);
            executor.undo(record);
        } catch (IOException | RuntimeException e) {
            log.warn("undoing host setup failed", "container", containerId, "error", e.getMessage());
        }
    }

    /** Releases the pod-scoped shares and disks the sandbox held (its executor's pod record). */
    private static void undoPod(PlanExecutor executor, JsonNode podSetup, LogfmtLog log) {
        if (podSetup == null || podSetup.isNull()) {
            return;
        }
        try {
            ExecutionRecord record = ExecutionRecord.fromJson(podSetup);
            executor.restore(record);
            executor.undoPod(record);
        } catch (IOException | RuntimeException e) {
            log.warn("undoing the pod's storage failed", "error", e.getMessage());
        }
    }

    private static Optional<String> read(Path file) {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file + ": " + e.getMessage(), e);
        }
    }

}
