package dev.podvisor.shim;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.podvisor.protocols.containerd.events.TaskCreate;
import dev.podvisor.protocols.containerd.events.TaskDelete;
import dev.podvisor.protocols.containerd.events.TaskExecAdded;
import dev.podvisor.protocols.containerd.events.TaskExecStarted;
import dev.podvisor.protocols.containerd.events.TaskExit;
import dev.podvisor.protocols.containerd.events.TaskIO;
import dev.podvisor.protocols.containerd.events.TaskOOM;
import dev.podvisor.protocols.containerd.events.TaskPaused;
import dev.podvisor.protocols.containerd.events.TaskResumed;
import dev.podvisor.protocols.containerd.events.TaskStart;
import dev.podvisor.protocols.containerd.task.v2.CheckpointTaskRequest;
import dev.podvisor.protocols.containerd.task.v2.CloseIORequest;
import dev.podvisor.protocols.containerd.task.v2.ConnectRequest;
import dev.podvisor.protocols.containerd.task.v2.ConnectResponse;
import dev.podvisor.protocols.containerd.task.v2.CreateTaskRequest;
import dev.podvisor.protocols.containerd.task.v2.CreateTaskResponse;
import dev.podvisor.protocols.containerd.task.v2.DeleteRequest;
import dev.podvisor.protocols.containerd.task.v2.DeleteResponse;
import dev.podvisor.protocols.containerd.task.v2.ExecProcessRequest;
import dev.podvisor.protocols.containerd.task.v2.KillRequest;
import dev.podvisor.protocols.containerd.task.v2.PauseRequest;
import dev.podvisor.protocols.containerd.task.v2.PidsRequest;
import dev.podvisor.protocols.containerd.task.v2.PidsResponse;
import dev.podvisor.protocols.containerd.task.v2.ResizePtyRequest;
import dev.podvisor.protocols.containerd.task.v2.ResumeRequest;
import dev.podvisor.protocols.containerd.task.v2.ShutdownRequest;
import dev.podvisor.protocols.containerd.task.v2.StartRequest;
import dev.podvisor.protocols.containerd.task.v2.StartResponse;
import dev.podvisor.protocols.containerd.task.v2.StateRequest;
import dev.podvisor.protocols.containerd.task.v2.StateResponse;
import dev.podvisor.protocols.containerd.task.v2.StatsRequest;
import dev.podvisor.protocols.containerd.task.v2.StatsResponse;
import dev.podvisor.protocols.containerd.task.v2.UpdateTaskRequest;
import dev.podvisor.protocols.containerd.task.v2.WaitRequest;
import dev.podvisor.protocols.containerd.task.v2.WaitResponse;
import dev.podvisor.protocols.containerd.types.task.ProcessInfo;
import dev.podvisor.protocols.containerd.types.task.Status;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.PodSandbox;
import dev.podvisor.sandbox.ProcessStdio;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;


/**
 * containerd's {@code containerd.task.v2.Task} service (containerd: api/runtime/task/v2/shim.proto,
 * docs/runtime-v2.md) for every container of one pod. It keeps containerd's view of each process (status,
 * exit status, exit time) and the event order the runtime-v2 contract requires (create → start → exit →
 * delete; exec-added → exec-started → exit), and leaves the VM side to {@link PodSandbox}.
 *
 * <p>Like Kata, every pid reported to containerd is the hypervisor's pid: the container's processes live in
 * the guest. Unknown container or exec ids answer NOT_FOUND; Checkpoint answers UNIMPLEMENTED.
 */
public final class TaskService {

    /** Reported as {@code ConnectResponse.version}. */
    public static final String VERSION = "podvisor 0.1.0 (io.containerd.kata.v2)";

    private final SandboxFactory sandboxFactory;
    private final TaskEvents events;
    private final LogfmtLog log;
    private final Runnable exit;
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private volatile PodSandbox sandbox;

    /** Boots the pod's VM; called on the first Create with that request's runtime options. */
    @FunctionalInterface
    public interface SandboxFactory {
        PodSandbox boot(Any runtimeOptions);
    }

    /** One process as containerd sees it: a container's init (execId "") or an exec. */
    static final class Process {
        final String containerId;
        final String execId;
        final boolean terminal;
        final ProcessStdio stdio;
        final CompletableFuture<Void> exited = new CompletableFuture<>();
        volatile Status status = Status.CREATED;
        volatile int exitStatus;
        volatile Instant exitedAt;
        final byte[] execSpec;

        Process(String containerId, String execId, boolean terminal, ProcessStdio stdio, byte[] execSpec) {
            this.containerId = containerId;
            this.execId = execId;
            this.terminal = terminal;
            this.stdio = stdio;
            this.execSpec = execSpec;
        }
    }

    /** One container: its bundle, init process and execs. */
    static final class Container {
        final String id;
        final String bundle;
        final Process init;
        final Map<String, Process> execs = new ConcurrentHashMap<>();

        Container(String id, String bundle, Process init) {
            this.id = id;
            this.bundle = bundle;
            this.init = init;
        }
    }

    /**
     * @param sandboxFactory boots the pod's VM on the first Create (called once, with that request's options)
     * @param events         where task events go
     * @param exit           called after Shutdown when no container remains: stops the daemon
     */
    public TaskService(SandboxFactory sandboxFactory, TaskEvents events, LogfmtLog log, Runnable exit) {
        this.sandboxFactory = sandboxFactory;
        this.events = events;
        this.log = log;
        this.exit = exit;
    }

    /**
     * The ttrpc service definition with all 17 RPCs. State, Pids and Connect answer from this object's
     * bookkeeping (no agent call, no lock, like Kata's shim) and run inline on the connection's reader.
     */
    public TtrpcService definition() {
        return TtrpcService.builder("containerd.task.v2.Task")
                .unaryInline("State", StateRequest.parser(), (ctx, r) -> state(r))
                .unary("Create", CreateTaskRequest.parser(), (ctx, r) -> create(r))
                .unary("Start", StartRequest.parser(), (ctx, r) -> start(r))
                .unary("Delete", DeleteRequest.parser(), (ctx, r) -> delete(r))
                .unaryInline("Pids", PidsRequest.parser(), (ctx, r) -> pids(r))
                .unary("Pause", PauseRequest.parser(), (ctx, r) -> pause(r))
                .unary("Resume", ResumeRequest.parser(), (ctx, r) -> resume(r))
                .unary("Checkpoint", CheckpointTaskRequest.parser(), (ctx, r) -> {
                    throw new TtrpcException(Code.UNIMPLEMENTED, "checkpoint: not implemented");
                })
                .unary("Kill", KillRequest.parser(), (ctx, r) -> kill(r))
                .unary("Exec", ExecProcessRequest.parser(), (ctx, r) -> exec(r))
                .unary("ResizePty", ResizePtyRequest.parser(), (ctx, r) -> resizePty(r))
                .unary("CloseIO", CloseIORequest.parser(), (ctx, r) -> closeIo(r))
                .unary("Update", UpdateTaskRequest.parser(), (ctx, r) -> update(r))
                .unary("Wait", WaitRequest.parser(), (ctx, r) -> waitFor(r))
                .unary("Stats", StatsRequest.parser(), (ctx, r) -> stats(r))
                .unaryInline("Connect", ConnectRequest.parser(), (ctx, r) -> connect(r))
                .unary("Shutdown", ShutdownRequest.parser(), (ctx, r) -> shutdown(r))
                .build();
    }

    /** Whether any container is left (the daemon may exit when none is). */
    public boolean hasContainers() {
        return !containers.isEmpty();
    }

    // ---------------------------------------------------------------------------------------------- RPCs

    CreateTaskResponse create(CreateTaskRequest request) {
        String id = request.getId();
        if (id.isEmpty()) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, "create: field 'id' is empty");
        }
        if (containers.containsKey(id)) {
            throw new TtrpcException(Code.ALREADY_EXISTS, "container " + id + ": already exists");
        }
        if (request.getCheckpoint().length() > 0) {
            throw new TtrpcException(Code.UNIMPLEMENTED, "create from checkpoint: not implemented");
        }
        PodSandbox pod = sandbox(request.getOptions());
        ProcessStdio stdio = new ProcessStdio(request.getStdin(), request.getStdout(), request.getStderr(),
                request.getTerminal());
        List<PodSandbox.RootfsMount> rootfs = request.getRootfsList().stream()
                .map(m -> new PodSandbox.RootfsMount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList()))
                .toList();
        try {
            pod.createContainer(new PodSandbox.ContainerRequest(id, request.getBundle(), rootfs, stdio,
                    request.getOptions()));
        } catch (IllegalArgumentException e) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage());
        } catch (RuntimeException e) {
            log.error("create failed", "container", id, "error", String.valueOf(e));
            throw failed("create", id, e);
        }
        Process init = new Process(id, "", request.getTerminal(), stdio, null);
        containers.put(id, new Container(id, request.getBundle(), init));
        int pid = pod.vmmPid();
        events.publish(EventPublisher.TASK_CREATE, TaskCreate.newBuilder()
                .setContainerId(id).setBundle(request.getBundle())
                .addAllRootfs(request.getRootfsList())
                .setIo(TaskIO.newBuilder().setStdin(request.getStdin()).setStdout(request.getStdout())
                        .setStderr(request.getStderr()).setTerminal(request.getTerminal()))
                .setCheckpoint(request.getCheckpoint()).setPid(pid).build());
        return CreateTaskResponse.newBuilder().setPid(pid).build();
    }

    StartResponse start(StartRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        if (process.status != Status.CREATED) {
            throw new TtrpcException(Code.FAILED_PRECONDITION, "process " + describe(process)
                    + ": cannot start a process in state " + process.status);
        }
        PodSandbox pod = sandbox;
        int pid = pod.vmmPid();
        try {
            if (process.execId.isEmpty()) {
                pod.startContainer(container.id);
                process.status = Status.RUNNING;
                events.publish(EventPublisher.TASK_START, TaskStart.newBuilder()
                        .setContainerId(container.id).setPid(pid).build());
            } else {
                pod.startExec(container.id, process.execId, process.execSpec, process.stdio);
                process.status = Status.RUNNING;
                events.publish(EventPublisher.TASK_EXEC_STARTED, TaskExecStarted.newBuilder()
                        .setContainerId(container.id).setExecId(process.execId).setPid(pid).build());
            }
        } catch (IllegalArgumentException e) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage());
        } catch (RuntimeException e) {
            throw failed("start", describe(process), e);
        }
        Thread.ofVirtual().name("wait-" + describe(process)).start(() -> awaitExit(pod, process, pid));
        return StartResponse.newBuilder().setPid(pid).build();
    }

    private void awaitExit(PodSandbox pod, Process process, int pid) {
        int status;
        try {
            status = pod.waitProcess(process.containerId, process.execId);
        } catch (RuntimeException e) {
            log.warn("wait failed; reporting the process as killed", "container", process.containerId, "exec", process.execId,
                    "error", e.getMessage());
            status = 255;
        }
        process.exitStatus = status;
        process.exitedAt = Instant.now();
        process.status = Status.STOPPED;
        log.info("process exited", "container", process.containerId, "exec", process.execId, "status", status);
        events.publish(EventPublisher.TASK_EXIT, TaskExit.newBuilder()
                .setContainerId(process.containerId)
                .setId(process.execId.isEmpty() ? process.containerId : process.execId)
                .setPid(pid).setExitStatus(status).setExitedAt(timestamp(process.exitedAt)).build());
        process.exited.complete(null);
    }

    DeleteResponse delete(DeleteRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        if (process.status == Status.RUNNING || process.status == Status.PAUSED) {
            throw new TtrpcException(Code.FAILED_PRECONDITION, "process " + describe(process)
                    + ": cannot delete a running process (state " + process.status + ")");
        }
        int pid = sandbox.vmmPid();
        if (process.execId.isEmpty()) {
            try {
                sandbox.removeContainer(container.id);
            } catch (RuntimeException e) {
                throw failed("delete", container.id, e);
            }
            containers.remove(container.id);
        } else {
            sandbox.removeExec(container.id, process.execId);
            container.execs.remove(process.execId);
        }
        Instant exitedAt = process.exitedAt == null ? Instant.now() : process.exitedAt;
        events.publish(EventPublisher.TASK_DELETE, TaskDelete.newBuilder()
                .setContainerId(container.id).setPid(pid).setExitStatus(process.exitStatus)
                .setExitedAt(timestamp(exitedAt)).setId(process.execId).build());
        return DeleteResponse.newBuilder().setPid(pid).setExitStatus(process.exitStatus)
                .setExitedAt(timestamp(exitedAt)).build();
    }

    Empty exec(ExecProcessRequest request) {
        Container container = container(request.getId());
        String execId = request.getExecId();
        if (execId.isEmpty()) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, "exec: field 'exec_id' is empty");
        }
        if (container.init.status != Status.RUNNING) {
            throw new TtrpcException(Code.FAILED_PRECONDITION, "container " + container.id
                    + ": cannot exec in a container in state " + container.init.status);
        }
        ProcessStdio stdio = new ProcessStdio(request.getStdin(), request.getStdout(), request.getStderr(),
                request.getTerminal());
        Process exec = new Process(container.id, execId, request.getTerminal(), stdio,
                request.getSpec().getValue().toByteArray());
        if (container.execs.putIfAbsent(execId, exec) != null) {
            throw new TtrpcException(Code.ALREADY_EXISTS, "exec " + container.id + "/" + execId + ": already exists");
        }
        events.publish(EventPublisher.TASK_EXEC_ADDED, TaskExecAdded.newBuilder()
                .setContainerId(container.id).setExecId(execId).build());
        return Empty.getDefaultInstance();
    }

    Empty kill(KillRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        if (process.status == Status.STOPPED) {
            throw new TtrpcException(Code.NOT_FOUND, "process " + describe(process) + ": process already finished");
        }
        if (process.status == Status.CREATED && process.execId.isEmpty()) {
            // never started: nothing runs in the guest yet; containerd expects the kill to end it
            process.exitStatus = 128 + request.getSignal();
            process.exitedAt = Instant.now();
            process.status = Status.STOPPED;
            process.exited.complete(null);
            return Empty.getDefaultInstance();
        }
        try {
            sandbox.signal(container.id, process.execId, request.getSignal(), request.getAll());
        } catch (RuntimeException e) {
            throw failed("kill", describe(process), e);
        }
        return Empty.getDefaultInstance();
    }

    Empty resizePty(ResizePtyRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        if (!process.terminal) {
            return Empty.getDefaultInstance();
        }
        sandbox.resizePty(container.id, process.execId, request.getHeight(), request.getWidth());
        return Empty.getDefaultInstance();
    }

    Empty closeIo(CloseIORequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        if (request.getStdin()) {
            sandbox.closeStdin(container.id, process.execId);
        }
        return Empty.getDefaultInstance();
    }

    StateResponse state(StateRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        StateResponse.Builder response = StateResponse.newBuilder()
                .setId(request.getExecId().isEmpty() ? container.id : process.execId)
                .setBundle(container.bundle)
                .setPid(sandbox.vmmPid())
                .setStatus(process.status)
                .setStdin(process.stdio.stdin()).setStdout(process.stdio.stdout()).setStderr(process.stdio.stderr())
                .setTerminal(process.terminal)
                .setExitStatus(process.exitStatus)
                .setExecId(process.execId);
        if (process.exitedAt != null) {
            response.setExitedAt(timestamp(process.exitedAt));
        }
        return response.build();
    }

    WaitResponse waitFor(WaitRequest request) {
        Container container = container(request.getId());
        Process process = process(container, request.getExecId());
        try {
            process.exited.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TtrpcException(Code.CANCELLED, "wait " + describe(process) + ": interrupted");
        } catch (ExecutionException e) {
            throw failed("wait", describe(process), e);
        }
        return WaitResponse.newBuilder().setExitStatus(process.exitStatus)
                .setExitedAt(timestamp(process.exitedAt)).build();
    }

    PidsResponse pids(PidsRequest request) {
        container(request.getId());
        return PidsResponse.newBuilder().addProcesses(ProcessInfo.newBuilder().setPid(sandbox.vmmPid())).build();
    }

    Empty pause(PauseRequest request) {
        Container container = container(request.getId());
        sandbox.pauseContainer(container.id);
        container.init.status = Status.PAUSED;
        events.publish(EventPublisher.TASK_PAUSED, TaskPaused.newBuilder().setContainerId(container.id).build());
        return Empty.getDefaultInstance();
    }

    Empty resume(ResumeRequest request) {
        Container container = container(request.getId());
        sandbox.resumeContainer(container.id);
        container.init.status = Status.RUNNING;
        events.publish(EventPublisher.TASK_RESUMED, TaskResumed.newBuilder().setContainerId(container.id).build());
        return Empty.getDefaultInstance();
    }

    Empty update(UpdateTaskRequest request) {
        Container container = container(request.getId());
        try {
            sandbox.updateContainer(container.id, request.getResources().getValue().toByteArray());
        } catch (IllegalArgumentException e) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage());
        }
        return Empty.getDefaultInstance();
    }

    StatsResponse stats(StatsRequest request) {
        Container container = container(request.getId());
        Any metrics = sandbox.stats(container.id);
        return StatsResponse.newBuilder().setStats(metrics).build();
    }

    ConnectResponse connect(ConnectRequest request) {
        container(request.getId());
        return ConnectResponse.newBuilder().setShimPid((int) ProcessHandle.current().pid())
                .setTaskPid(sandbox.vmmPid()).setVersion(VERSION).build();
    }

    Empty shutdown(ShutdownRequest request) {
        if (!containers.isEmpty()) {
            log.debug("shutdown ignored: containers remain", "count", containers.size());
            return Empty.getDefaultInstance();
        }
        PodSandbox pod = sandbox;
        if (pod != null) {
            pod.shutdown();
        }
        exit.run();
        return Empty.getDefaultInstance();
    }

    /** Publishes a TaskOOM event (called by the sandbox's OOM watcher). */
    public void oom(String containerId) {
        events.publish(EventPublisher.TASK_OOM, TaskOOM.newBuilder().setContainerId(containerId).build());
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private synchronized PodSandbox sandbox(Any options) {
        if (sandbox == null) {
            try {
                sandbox = sandboxFactory.boot(options);
            } catch (IllegalArgumentException e) {
                throw new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage());
            } catch (RuntimeException e) {
                log.error("sandbox boot failed", "error", String.valueOf(e));
                throw failed("boot sandbox for", "pod", e);
            }
        }
        return sandbox;
    }

    private Container container(String id) {
        Container container = containers.get(id);
        if (container == null) {
            throw new TtrpcException(Code.NOT_FOUND, "container " + id + ": not found");
        }
        return container;
    }

    private static Process process(Container container, String execId) {
        if (execId.isEmpty()) {
            return container.init;
        }
        Process exec = container.execs.get(execId);
        if (exec == null) {
            throw new TtrpcException(Code.NOT_FOUND, "exec " + container.id + "/" + execId + ": not found");
        }
        return exec;
    }

    private static String describe(Process process) {
        return process.execId.isEmpty() ? process.containerId : process.containerId + "/" + process.execId;
    }

    private static TtrpcException failed(String what, String id, Throwable e) {
        Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof TtrpcException t) {
            return new TtrpcException(t.code(), what + " " + id + ": " + t.getMessage());
        }
        return new TtrpcException(Code.UNKNOWN, what + " " + id + ": " + cause.getMessage());
    }

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

}
