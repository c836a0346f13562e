package dev.podvisor.sandbox;

import com.google.protobuf.Any;

import java.util.List;

/**
 * One pod's VM and the containers in it, as the Task service drives them. Implementations boot the VM when
 * created and talk to the guest agent; every method is safe to call from many threads.
 *
 * <p>Errors: {@link IllegalArgumentException} for bad input (the message names the field and value),
 * {@code TtrpcException} with the agent's status for guest failures, other runtime exceptions for host
 * failures. A failed call leaves nothing behind.
 */
public interface PodSandbox {

    /**
     * One rootfs mount from CreateTaskRequest ({@code containerd.types.Mount}).
     *
     * @param type    filesystem type, e.g. {@code overlay}, {@code ext4}
     * @param source  mount source
     * @param target  sub-path target (containerd 2.x), usually empty
     * @param options mount options
     */
    record RootfsMount(String type, String source, String target, List<String> options) {
        public RootfsMount {
            options = List.copyOf(options);
        }
    }

    /**
     * What containerd asked for in CreateTaskRequest.
     *
     * @param id      container id
     * @param bundle  bundle directory holding config.json and rootfs/
     * @param rootfs  rootfs mounts (empty when the bundle's rootfs/ is already populated)
     * @param stdio   the init process's stdio
     * @param options runtime options (CRI {@code runtimeoptions.v1.Options}), may be the default instance
     */
    record ContainerRequest(String id, String bundle, List<RootfsMount> rootfs, ProcessStdio stdio, Any options) {
        public ContainerRequest {
            rootfs = List.copyOf(rootfs);
        }
    }

    /** Plans and sets up the container's storage, then creates it in the guest (not started). */
    void createContainer(ContainerRequest request);

    /** Starts the container's init process and begins copying its stdio. */
    void startContainer(String containerId);

    /**
     * Starts an exec process.
     *
     * @param processJson the OCI {@code Process} JSON containerd sent in ExecProcessRequest.spec
     */
    void startExec(String containerId, String execId, byte[] processJson, ProcessStdio stdio);

    /**
     * Blocks until the process exits and its output has been copied to the host FIFOs; returns the exit
     * status (128 + signal number when a signal ended it).
     */
    int waitProcess(String containerId, String execId);

    /** Sends a signal to the process ({@code all}: to every process of the container). */
    void signal(String containerId, String execId, int signal, boolean all);

    /** Resizes the process's pty. */
    void resizePty(String containerId, String execId, int rows, int columns);

    /** Closes the process's stdin in the guest once what was written has been forwarded. */
    void closeStdin(String containerId, String execId);

    void pauseContainer(String containerId);

    void resumeContainer(String containerId);

    /** Applies new resources ({@code resourcesJson} = OCI LinuxResources JSON). */
    void updateContainer(String containerId, byte[] resourcesJson);

    /** cgroup metrics as containerd expects them in StatsResponse ({@code io.containerd.cgroups.v1.Metrics}). */
    Any stats(String containerId);

    /** Removes an exited container from the guest and undoes its storage on the host. Idempotent. */
    void removeContainer(String containerId);

    /** Forgets an exited exec process. */
    void removeExec(String containerId, String execId);

    /** The hypervisor's pid: what Kata reports to containerd as every task's pid. */
    int vmmPid();

    /** Tears the whole pod down: guest processes, containers, DestroySandbox, VM, virtiofsd, host mounts, state. */
    void shutdown();
}
