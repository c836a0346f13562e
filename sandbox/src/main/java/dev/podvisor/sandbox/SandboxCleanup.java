package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.cgroup.SandboxCgroups;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.storage.exec.AttachedDisk;
import dev.podvisor.storage.exec.DiskAttacher;
import dev.podvisor.storage.exec.ExecutionRecord;
import dev.podvisor.storage.exec.PlanExecutor;
import dev.podvisor.storage.exec.SandboxDisks;
import dev.podvisor.storage.exec.SandboxShares;
import dev.podvisor.storage.linux.HostMounts;
import dev.podvisor.storage.plan.GuestPaths;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code containerd-shim-kata-v2 delete} undoes when the daemon may be gone (containerd calls it after
 * every task delete and whenever it lost a shim). It reads the sandbox state the daemon persisted and:
 * for the sandbox (or single) container, stops the daemon and the VM's processes, undoes every container's
 * host setup and the pod's (pod-scoped shares and disks), removes the cgroups it created, the shares and the
 * state; for another container of a pod, undoes only that
 * container's host setup, and only when the daemon is gone. In every case the bundle's {@code rootfs} is
 * unmounted if it is still a mount point. Idempotent: a second call finds nothing to do.
 */
public final class SandboxCleanup {

    /** The bundle file naming the sandbox's state directory. */
    public static final String BUNDLE_LINK = "podvisor-sandbox";

    private SandboxCleanup() {
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
                daemonPid.flatMap(ProcessHandle::of).ifPresent(handle -> stop(handle, log));
                tearDownSandbox(sandbox, log);
            } else if (!daemonAlive && sandbox.containers().containsKey(containerId)) {
                undoContainer(sandbox, containerId, log);
            }
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

    private static void tearDownSandbox(SandboxState sandbox, LogfmtLog log) {
        List<Long> pids = new ArrayList<>(sandbox.virtiofsdPids());
        pids.addFirst(sandbox.vmmPid());
        stopAll(pids.stream().filter(pid -> pid > 0).map(ProcessHandle::of).flatMap(java.util.Optional::stream).toList(), log);
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
        VmSandbox.deleteTree(Path.of(sandbox.vmDir()));
        SandboxCgroups.removeRecorded(sandbox.cgroups(), log); // last: the slowest step, and nothing depends on it
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
            ExecutionRecord record = ContainerStorage.JSON.treeToValue(hostSetup, ExecutionRecord.class);
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
            ExecutionRecord record = ContainerStorage.JSON.treeToValue(podSetup, ExecutionRecord.class);
            executor.restore(record);
            executor.undoPod(record);
        } catch (IOException | RuntimeException e) {
            log.warn("undoing the pod's storage failed", "error", e.getMessage());
        }
    }

    /**
     * SIGTERM to all at once, one 2 s wait for all, then SIGKILL to the rest: containerd gives {@code delete} 5 s in
     * all, so the VM's processes are not waited for one after the other.
     */
    private static void stopAll(List<ProcessHandle> handles, LogfmtLog log) {
        handles.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(2);
        for (ProcessHandle handle : handles) {
            try {
                handle.onExit().get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (Exception timeout) {
                handle.destroyForcibly();
                log.warn("process did not stop on SIGTERM; killed", "pid", handle.pid());
            }
        }
    }

    private static void stop(ProcessHandle handle, LogfmtLog log) {
        if (!handle.isAlive()) {
            return;
        }
        handle.destroy();
        try {
            handle.onExit().get(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception timeout) {
            handle.destroyForcibly();
            log.warn("process did not stop on SIGTERM; killed", "pid", handle.pid());
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
