package dev.podvisor.sandbox.agent;

import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.podvisor.protocols.agent.ARPNeighbors;
import dev.podvisor.protocols.agent.AddARPNeighborsRequest;
import dev.podvisor.protocols.agent.CheckRequest;
import dev.podvisor.protocols.agent.CloseStdinRequest;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.DestroySandboxRequest;
import dev.podvisor.protocols.agent.ExecProcessRequest;
import dev.podvisor.protocols.agent.GetMetricsRequest;
import dev.podvisor.protocols.agent.GetOOMEventRequest;
import dev.podvisor.protocols.agent.Metrics;
import dev.podvisor.protocols.agent.HealthCheckResponse;
import dev.podvisor.protocols.agent.OOMEvent;
import dev.podvisor.protocols.agent.PauseContainerRequest;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.RemoveContainerRequest;
import dev.podvisor.protocols.agent.ResumeContainerRequest;
import dev.podvisor.protocols.agent.SignalProcessRequest;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.StatsContainerRequest;
import dev.podvisor.protocols.agent.StatsContainerResponse;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.TtyWinResizeRequest;
import dev.podvisor.protocols.agent.Routes;
import dev.podvisor.protocols.agent.UpdateContainerRequest;
import dev.podvisor.protocols.agent.UpdateInterfaceRequest;
import dev.podvisor.protocols.agent.UpdateRoutesRequest;
import dev.podvisor.protocols.agent.types.ARPNeighbor;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.protocols.agent.UpdateEphemeralMountsRequest;
import dev.podvisor.protocols.agent.ResizeVolumeRequest;
import dev.podvisor.protocols.agent.VolumeStatsRequest;
import dev.podvisor.protocols.agent.VolumeStatsResponse;
import dev.podvisor.protocols.agent.VolumeUsage;
import dev.podvisor.protocols.agent.WaitProcessRequest;
import dev.podvisor.protocols.agent.WaitProcessResponse;
import dev.podvisor.protocols.agent.WriteStreamRequest;
import dev.podvisor.protocols.agent.WriteStreamResponse;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;

import java.time.Duration;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The kata agent's API ({@code grpc.AgentService} and {@code grpc.Health} over ttrpc, kata-containers:
 * src/libs/protocols/protos/agent.proto), called the way Kata's runtimes call it: unary requests, the
 * long-poll calls ({@link #waitProcess}, {@link #readStdout}, {@link #getOomEvent}) without a deadline,
 * everything else with the request timeout.
 *
 * <p>Every call throws {@link TtrpcException} with the agent's status on failure, and
 * {@code TtrpcException(UNAVAILABLE, "ttrpc: closed")} once the connection is gone.
 */
public final class AgentClient implements AutoCloseable {

    static final String AGENT = "grpc.AgentService";
    static final String HEALTH = "grpc.Health";

    private final TtrpcClient client;
    private final Duration requestTimeout;
    private volatile BiConsumer<String, Long> callObserver = (method, nanos) -> { };

    /**
     * @param client         a ttrpc client on the agent's vsock connection
     * @param requestTimeout deadline of non-blocking calls (Kata runtime-rs default: 30 s)
     */
    public AgentClient(TtrpcClient client, Duration requestTimeout) {
        this.client = client;
        this.requestTimeout = requestTimeout;
    }

    /**
     * The same connection with another deadline for non-blocking calls (teardown uses a short one: an agent
     * that does not answer within it counts as gone).
     */
    public AgentClient withRequestTimeout(Duration timeout) {
        AgentClient copy = new AgentClient(client, timeout);
        copy.callObserver = callObserver;
        return copy;
    }

    /** Receives (method, duration in ns) after each call, for metrics. */
    public void observeCalls(BiConsumer<String, Long> observer) {
        this.callObserver = observer;
    }

    /** {@code Health.Check}; true when the agent answers SERVING. */
    public boolean healthy() {
        HealthCheckResponse response = call(HEALTH, "Check", CheckRequest.getDefaultInstance(),
                HealthCheckResponse.parser(), requestTimeout);
        return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING;
    }

    public void createSandbox(CreateSandboxRequest request) {
        agent("CreateSandbox", request, Empty.parser(), requestTimeout);
    }

    /**
     * {@code UpdateInterface}: the agent finds the guest NIC by {@code hwAddr} (else by name), sets addresses,
     * MTU, name and ARP, and sets it up.
     *
     * @return the interface as the agent applied it
     */
    public Interface updateInterface(Interface nic) {
        return agent("UpdateInterface", UpdateInterfaceRequest.newBuilder().setInterface(nic).build(),
                Interface.parser(), requestTimeout);
    }

    /** {@code UpdateRoutes} with every route in one request; returns the guest's routes afterwards. */
    public List<Route> updateRoutes(List<Route> routes) {
        return agent("UpdateRoutes", UpdateRoutesRequest.newBuilder()
                .setRoutes(Routes.newBuilder().addAllRoutes(routes)).build(), Routes.parser(), requestTimeout)
                .getRoutesList();
    }

    /** {@code AddARPNeighbors} with every neighbour in one request. */
    public void addArpNeighbors(List<ARPNeighbor> neighbours) {
        agent("AddARPNeighbors", AddARPNeighborsRequest.newBuilder()
                .setNeighbors(ARPNeighbors.newBuilder().addAllARPNeighbors(neighbours)).build(),
                Empty.parser(), requestTimeout);
    }

    public void destroySandbox() {
        agent("DestroySandbox", DestroySandboxRequest.getDefaultInstance(), Empty.parser(), requestTimeout);
    }

    public void createContainer(CreateContainerRequest request) {
        agent("CreateContainer", request, Empty.parser(), requestTimeout);
    }

    public void startContainer(String containerId) {
        agent("StartContainer", StartContainerRequest.newBuilder().setContainerId(containerId).build(),
                Empty.parser(), requestTimeout);
    }

    /** {@code RemoveContainer} with the agent-side timeout in seconds (0 = agent default). */
    public void removeContainer(String containerId, int timeoutSeconds) {
        agent("RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId(containerId)
                .setTimeout(timeoutSeconds).build(), Empty.parser(), requestTimeout);
    }

    public void execProcess(ExecProcessRequest request) {
        agent("ExecProcess", request, Empty.parser(), requestTimeout);
    }

    /** Sends {@code signal} to a process; {@code execId} "" means the container's init process. */
    public void signalProcess(String containerId, String execId, int signal) {
        agent("SignalProcess", SignalProcessRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                .setSignal(signal).build(), Empty.parser(), requestTimeout);
    }

    /** Blocks until the process exits; returns its exit status (128+signal when killed by a signal). */
    public int waitProcess(String containerId, String execId) {
        WaitProcessResponse response = agent("WaitProcess", WaitProcessRequest.newBuilder()
                .setContainerId(containerId).setExecId(execId).build(), WaitProcessResponse.parser(), null);
        return response.getStatus();
    }

    /**
     * Long-polls up to {@code maxBytes} of stdout. At end of stream (finished and drained) the agent answers
     * with no data (kata-agent 3.27.0 and later: the result is empty) or an error (older agents: throws).
     */
    public byte[] readStdout(String containerId, String execId, int maxBytes) {
        return agent("ReadStdout", readRequest(containerId, execId, maxBytes), ReadStreamResponse.parser(), null)
                .getData().toByteArray();
    }

    /** Like {@link #readStdout} for stderr. */
    public byte[] readStderr(String containerId, String execId, int maxBytes) {
        return agent("ReadStderr", readRequest(containerId, execId, maxBytes), ReadStreamResponse.parser(), null)
                .getData().toByteArray();
    }

    /** Writes stdin bytes; returns how many the agent took. */
    public long writeStdin(String containerId, String execId, byte[] data, int length) {
        WriteStreamResponse response = agent("WriteStdin", WriteStreamRequest.newBuilder()
                .setContainerId(containerId).setExecId(execId)
                .setData(com.google.protobuf.ByteString.copyFrom(data, 0, length)).build(),
                WriteStreamResponse.parser(), requestTimeout);
        return response.getLen();
    }

    public void closeStdin(String containerId, String execId) {
        agent("CloseStdin", CloseStdinRequest.newBuilder().setContainerId(containerId).setExecId(execId).build(),
                Empty.parser(), requestTimeout);
    }

    public void ttyWinResize(String containerId, String execId, int rows, int columns) {
        agent("TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId(containerId).setExecId(execId)
                .setRow(rows).setColumn(columns).build(), Empty.parser(), requestTimeout);
    }

    public void pauseContainer(String containerId) {
        agent("PauseContainer", PauseContainerRequest.newBuilder().setContainerId(containerId).build(),
                Empty.parser(), requestTimeout);
    }

    public void resumeContainer(String containerId) {
        agent("ResumeContainer", ResumeContainerRequest.newBuilder().setContainerId(containerId).build(),
                Empty.parser(), requestTimeout);
    }

    public StatsContainerResponse statsContainer(String containerId) {
        return agent("StatsContainer", StatsContainerRequest.newBuilder().setContainerId(containerId).build(),
                StatsContainerResponse.parser(), requestTimeout);
    }

    public void updateContainer(UpdateContainerRequest request) {
        agent("UpdateContainer", request, Empty.parser(), requestTimeout);
    }

    /**
     * {@code UpdateEphemeralMounts}: re-mounts guest tmpfs storages with new options (e.g.
     * {@code remount,size=<bytes>}). The stock agent drops every option but {@code fsgid=} when it creates an
     * {@code ephemeral} storage, so this is how a guest tmpfs gets its size.
     */
    public void updateEphemeralMounts(List<Storage> storages) {
        agent("UpdateEphemeralMounts", UpdateEphemeralMountsRequest.newBuilder().addAllStorages(storages).build(),
                Empty.parser(), requestTimeout);
    }

    /**
     * {@code GetMetrics}: the agent's own metrics in the Prometheus text format (empty when it has none).
     *
     * @param timeout deadline of this call (a scrape must not wait the request timeout)
     */
    public String metrics(Duration timeout) {
        return agent("GetMetrics", GetMetricsRequest.getDefaultInstance(), Metrics.parser(), timeout).getMetrics();
    }

    /**
     * {@code GetVolumeStats}: the capacity the guest sees at {@code guestPath}, in bytes.
     *
     * @return the total bytes of the filesystem mounted there (unit BYTES), or -1 when the agent gives none
     */
    public long volumeTotalBytes(String guestPath) {
        VolumeStatsResponse stats = volumeStats(guestPath);
        for (VolumeUsage usage : stats.getUsageList()) {
            if (usage.getUnit() == VolumeUsage.Unit.BYTES) {
                return usage.getTotal();
            }
        }
        return -1;
    }

    /** {@code GetVolumeStats}: the guest's usage figures (bytes, inodes) of the filesystem mounted at {@code guestPath}. */
    public VolumeStatsResponse volumeStats(String guestPath) {
        return agent("GetVolumeStats", VolumeStatsRequest.newBuilder().setVolumeGuestPath(guestPath).build(),
                VolumeStatsResponse.parser(), requestTimeout);
    }

    /** {@code ResizeVolume}: grows the filesystem mounted at {@code guestPath} to {@code sizeBytes}. */
    public void resizeVolume(String guestPath, long sizeBytes) {
        agent("ResizeVolume", ResizeVolumeRequest.newBuilder().setVolumeGuestPath(guestPath).setSize(sizeBytes).build(),
                Empty.parser(), requestTimeout);
    }

    /** Long-polls the next OOM event; returns the id of the container that hit its memory limit. */
    public String getOomEvent() {
        OOMEvent event = agent("GetOOMEvent", GetOOMEventRequest.getDefaultInstance(), OOMEvent.parser(), null);
        return event.getContainerId();
    }

    @Override
    public void close() {
        client.close();
    }

    /** Runs {@code action} when the agent connection closes (the VM died or was shut down). */
    public void onClose(Runnable action) {
        client.onClose(action);
    }

    private static ReadStreamRequest readRequest(String containerId, String execId, int maxBytes) {
        return ReadStreamRequest.newBuilder().setContainerId(containerId).setExecId(execId).setLen(maxBytes).build();
    }

    private <R extends Message> R agent(String method, Message request, Parser<R> parser, Duration timeout) {
        return call(AGENT, method, request, parser, timeout);
    }

    private <R extends Message> R call(String service, String method, Message request, Parser<R> parser,
                                       Duration timeout) {
        long start = System.nanoTime();
        try {
            return client.call(service, method, request, parser, timeout);
        } finally {
            callObserver.accept(method, System.nanoTime() - start);
        }
    }
}
