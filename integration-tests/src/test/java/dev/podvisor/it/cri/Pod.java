package dev.podvisor.it.cri;

import dev.podvisor.it.cri.api.Cri;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A pod run by {@link Kubelet}: its sandbox, its containers (by name, with their restart count) and its
 * directories. Methods call CRI the way kubelet does for the same event; they are not thread-safe.
 */
public final class Pod implements AutoCloseable {

    /** StopContainer timeout: the pod's {@code terminationGracePeriodSeconds} (0: SIGKILL at once). */
    public static final long STOP_TIMEOUT_SECONDS = 0;

    private record Running(String id, int attempt) {
    }

    private final CriClient cri;
    private final PodSpec spec;
    private final PodDir dir;
    private final Path logDir;
    private final Map<String, Running> containers = new LinkedHashMap<>();
    private String sandboxId;
    private Cri.PodSandboxConfig sandboxConfig;
    private String ip = "";
    private boolean removed;

    Pod(CriClient cri, PodSpec spec, PodDir dir, Path logDir) {
        this.cri = cri;
        this.spec = spec;
        this.dir = dir;
        this.logDir = logDir;
    }

    void sandboxCreated(String id, Cri.PodSandboxConfig config) {
        this.sandboxId = id;
        this.sandboxConfig = config;
        Cri.PodSandboxStatus status = sandboxStatus();
        this.ip = status.getNetwork().getIp();
        dir.writeEtcHosts(ip);
    }

    /** @return the pod spec */
    public PodSpec spec() {
        return spec;
    }

    /** @return the CRI sandbox id */
    public String sandboxId() {
        return sandboxId;
    }

    /** @return the pod IP from PodSandboxStatus ("" for none, e.g. hostNetwork) */
    public String ip() {
        return ip;
    }

    /** @return {@code <kubelet root>/pods/<uid>} */
    public Path dir() {
        return dir.root();
    }

    /** @return the pod's log directory {@code <kubelet root>/logs/<namespace>_<name>_<uid>} */
    public Path logDir() {
        return logDir;
    }

    /**
     * @param volume a pod volume's name
     * @return its host directory, e.g. {@code <pod dir>/volumes/kubernetes.io~empty-dir/<name>}
     */
    public Path volumeDir(String volume) {
        return dir.volumeDir(spec.volume(volume));
    }

    /** @return PodSandboxStatus of the sandbox */
    public Cri.PodSandboxStatus sandboxStatus() {
        return cri.runtime().podSandboxStatus(Cri.PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandboxId)
                .build()).getStatus();
    }

    /**
     * @return the verbose PodSandboxStatus {@code info} map; containerd 1.6 puts one JSON document under
     *         {@code "info"} (pid, netNamespacePath, runtimeSpec, ...)
     */
    public Map<String, String> sandboxInfo() {
        return cri.runtime().podSandboxStatus(Cri.PodSandboxStatusRequest.newBuilder().setPodSandboxId(sandboxId)
                .setVerbose(true).build()).getInfoMap();
    }

    /**
     * @param container a current container's name
     * @return its CRI container id
     * @throws IllegalArgumentException when no container of that name exists now
     */
    public String containerId(String container) {
        return current(container).id();
    }

    /**
     * @param container a current container's name
     * @return its restart count (0 for the first)
     */
    public int restartCount(String container) {
        return current(container).attempt();
    }

    /**
     * Runs a command in a container (CRI ExecSync, 60 s timeout).
     *
     * @param container the container's name
     * @param command   argv
     * @return exit code and output
     */
    public ExecResult exec(String container, String... command) {
        Cri.ExecSyncResponse r = cri.runtime().execSync(Cri.ExecSyncRequest.newBuilder()
                .setContainerId(containerId(container)).addAllCmd(List.of(command)).setTimeout(60).build());
        return new ExecResult(r.getExitCode(), r.getStdout().toString(StandardCharsets.UTF_8),
                r.getStderr().toString(StandardCharsets.UTF_8));
    }

    /**
     * @param container the container's name
     * @return its ContainerStatus
     */
    public Cri.ContainerStatus status(String container) {
        return statusOf(containerId(container));
    }

    private Cri.ContainerStatus statusOf(String id) {
        return cri.runtime().containerStatus(Cri.ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus();
    }

    private Cri.ContainerStatus status(Running r) {
        return statusOf(r.id());
    }

    /**
     * Waits until a container has exited (polls ContainerStatus every 50 ms).
     *
     * @param container the container's name
     * @param timeout   how long to wait
     * @return its status once exited
     * @throws AssertionError when it is still not exited at the deadline
     */
    public Cri.ContainerStatus awaitExit(String container, Duration timeout) {
        return awaitExit(current(container), timeout);
    }

    private Cri.ContainerStatus awaitExit(Running r, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Cri.ContainerStatus s = status(r);
            if (s.getState() == Cri.ContainerState.CONTAINER_EXITED) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("container " + s.getMetadata().getName() + " of pod " + spec.name()
                        + " not exited after " + timeout + ": " + s.getState());
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /**
     * The messages of the container's current log file ({@code <log dir>/<name>/<attempt>.log}, CRI log format
     * {@code <time> <stream> <P|F> <message>}; partial lines are joined).
     *
     * @param container the container's name
     * @return its log lines, stdout and stderr interleaved as written
     */
    public List<String> logLines(String container) {
        Running r = current(container);
        Path file = logDir.resolve(CriConfigs.logPath(container, r.attempt()));
        List<String> out = new ArrayList<>();
        StringBuilder partial = new StringBuilder();
        try {
            if (!Files.exists(file)) {
                return out;
            }
            for (String line : Files.readAllLines(file)) {
                String[] f = line.split(" ", 4);
                if (f.length < 3) {
                    continue;
                }
                partial.append(f.length == 4 ? f[3] : "");
                if (f[2].equals("F")) {
                    out.add(partial.toString());
                    partial.setLength(0);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits until the container's log holds {@code line} (polls every 50 ms).
     *
     * @return all log lines at that moment
     * @throws AssertionError when it does not appear in time (the lines seen in the message)
     */
    public List<String> awaitLogLine(String container, String line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> lines = logLines(container);
            if (lines.contains(line)) {
                return lines;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("log of " + container + " has no line '" + line + "' after " + timeout
                        + ": " + lines);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /**
     * kubelet's restart of a crashed (or killed) container: StopContainer if it still runs, RemoveContainer, then
     * CreateContainer with the restart count + 1 and StartContainer.
     *
     * @param container the container's name
     * @return the new container's id
     */
    public String restart(String container) {
        Running old = current(container);
        stopAndRemove(container, old);
        start(spec.container(container), old.attempt() + 1);
        return containerId(container);
    }

    /**
     * Kills a container without removing it (StopContainer), as a crash or a failed liveness probe would.
     *
     * @param container the container's name
     * @return its status once exited
     */
    public Cri.ContainerStatus kill(String container) {
        Running r = current(container);
        cri.runtime().stopContainer(Cri.StopContainerRequest.newBuilder().setContainerId(r.id()).setTimeout(0).build());
        return awaitExit(r, Duration.ofSeconds(60));
    }

    /**
     * Updates a secret / configMap / projected volume on the host as kubelet's atomic writer does.
     *
     * @param volume the volume's name
     * @param items  its new payload
     */
    public void updateVolume(String volume, Map<String, String> items) {
        dir.update(volume, items);
    }

    void runToCompletion(Container c) {
        start(c, 0);
        Running r = containers.get(c.name());
        Cri.ContainerStatus s = awaitExit(r, Duration.ofSeconds(120));
        if (s.getExitCode() != 0) {
            throw new IllegalStateException("init container " + c.name() + " of pod " + spec.name() + " exited "
                    + s.getExitCode() + " (" + s.getReason() + "): log " + logLines(c.name()));
        }
        stopAndRemove(c.name(), r);
    }

    void start(Container c, int attempt) {
        try {
            Files.createDirectories(logDir.resolve(c.name()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Cri.Mount> mounts = new ArrayList<>();
        for (int i = 0; i < c.mounts().size(); i++) {
            VolumeMount m = c.mounts().get(i);
            mounts.add(CriConfigs.mount(m.containerPath(), dir.hostPath(c.name(), i, m), m.readOnly()));
        }
        if (!spec.hostNetwork()) {
            mounts.add(CriConfigs.mount("/etc/hosts", dir.root().resolve("etc-hosts"), false));
        }
        mounts.add(CriConfigs.mount(CriConfigs.TERMINATION_LOG, dir.newTerminationLog(c.name()), false));
        Cri.ContainerConfig config = CriConfigs.container(spec, c, attempt, mounts);
        String id = cri.runtime().createContainer(Cri.CreateContainerRequest.newBuilder().setPodSandboxId(sandboxId)
                .setConfig(config).setSandboxConfig(sandboxConfig).build()).getContainerId();
        containers.put(c.name(), new Running(id, attempt));
        cri.runtime().startContainer(Cri.StartContainerRequest.newBuilder().setContainerId(id).build());
    }

    private void stopAndRemove(String name, Running r) {
        if (status(r).getState() != Cri.ContainerState.CONTAINER_EXITED) {
            cri.runtime().stopContainer(Cri.StopContainerRequest.newBuilder().setContainerId(r.id())
                    .setTimeout(STOP_TIMEOUT_SECONDS).build());
        }
        cri.runtime().removeContainer(Cri.RemoveContainerRequest.newBuilder().setContainerId(r.id()).build());
        containers.remove(name);
    }

    private Running current(String container) {
        Running r = containers.get(container);
        if (r == null) {
            throw new IllegalArgumentException("pod " + spec.name() + " has no container '" + container
                    + "' now (has " + containers.keySet() + ")");
        }
        return r;
    }

    /**
     * kubelet's pod deletion: StopContainer of each container, StopPodSandbox, RemoveContainer of each,
     * RemovePodSandbox; then the volumes are unmounted and the pod and log directories deleted. Idempotent.
     */
    public void remove() {
        if (removed) {
            return;
        }
        removed = true;
        try {
            if (sandboxId != null) {
                for (Running r : containers.values()) {
                    cri.runtime().stopContainer(Cri.StopContainerRequest.newBuilder().setContainerId(r.id())
                            .setTimeout(STOP_TIMEOUT_SECONDS).build());
                }
                cri.runtime().stopPodSandbox(Cri.StopPodSandboxRequest.newBuilder().setPodSandboxId(sandboxId).build());
                for (Running r : containers.values()) {
                    cri.runtime().removeContainer(Cri.RemoveContainerRequest.newBuilder().setContainerId(r.id()).build());
                }
                containers.clear();
                cri.runtime().removePodSandbox(Cri.RemovePodSandboxRequest.newBuilder().setPodSandboxId(sandboxId).build());
            }
        } finally {
            dir.close();
            try {
                if (Files.exists(logDir)) {
                    AtomicWriter.deleteTree(logDir);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete " + logDir, e);
            }
        }
    }

    void removeAfter(Throwable cause) {
        try {
            remove();
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    /** Same as {@link #remove()}. */
    @Override
    public void close() {
        remove();
    }
}
