package dev.podvisor.testbed.guest;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.podvisor.protocols.agent.AddARPNeighborsRequest;
import dev.podvisor.protocols.agent.AgentDetails;
import dev.podvisor.protocols.agent.CgroupStats;
import dev.podvisor.protocols.agent.CheckRequest;
import dev.podvisor.protocols.agent.CloseStdinRequest;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.DestroySandboxRequest;
import dev.podvisor.protocols.agent.ExecProcessRequest;
import dev.podvisor.protocols.agent.GetMetricsRequest;
import dev.podvisor.protocols.agent.GetOOMEventRequest;
import dev.podvisor.protocols.agent.GuestDetailsRequest;
import dev.podvisor.protocols.agent.GuestDetailsResponse;
import dev.podvisor.protocols.agent.HealthCheckResponse;
import dev.podvisor.protocols.agent.ListInterfacesRequest;
import dev.podvisor.protocols.agent.ListRoutesRequest;
import dev.podvisor.protocols.agent.Metrics;
import dev.podvisor.protocols.agent.OOMEvent;
import dev.podvisor.protocols.agent.OnlineCPUMemRequest;
import dev.podvisor.protocols.agent.PauseContainerRequest;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.RemoveContainerRequest;
import dev.podvisor.protocols.agent.ResumeContainerRequest;
import dev.podvisor.protocols.agent.SetGuestDateTimeRequest;
import dev.podvisor.protocols.agent.SetPolicyRequest;
import dev.podvisor.protocols.agent.SignalProcessRequest;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.StatsContainerRequest;
import dev.podvisor.protocols.agent.StatsContainerResponse;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.TtyWinResizeRequest;
import dev.podvisor.protocols.agent.UpdateContainerRequest;
import dev.podvisor.protocols.agent.UpdateEphemeralMountsRequest;
import dev.podvisor.protocols.agent.UpdateInterfaceRequest;
import dev.podvisor.protocols.agent.UpdateRoutesRequest;
import dev.podvisor.protocols.agent.VersionCheckResponse;
import dev.podvisor.protocols.agent.VolumeCondition;
import dev.podvisor.protocols.agent.VolumeStatsRequest;
import dev.podvisor.protocols.agent.VolumeStatsResponse;
import dev.podvisor.protocols.agent.VolumeUsage;
import dev.podvisor.protocols.agent.WaitProcessRequest;
import dev.podvisor.protocols.agent.WaitProcessResponse;
import dev.podvisor.protocols.agent.WriteStreamRequest;
import dev.podvisor.protocols.agent.WriteStreamResponse;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.storage.host.FsStat;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CountDownLatch;

/**
 * The ttrpc services the guest serves on vsock port 1024, as the kata-agent does: {@code grpc.AgentService}
 * (the calls below; any other method answers UNIMPLEMENTED from the ttrpc server) and {@code grpc.Health}.
 * Every request and answer is logged (kind {@code request} / {@code response}: method, container and exec
 * id, storages, status).
 *
 * <p>Error mapping: unknown container/exec → NOT_FOUND; duplicate id → ALREADY_EXISTS; bad request fields
 * → INVALID_ARGUMENT; everything else (a failed mount, a failed runc) → INTERNAL with the cause's message,
 * as the agent maps its errors (rpc.rs {@code ttrpc_error(Code::INTERNAL, e)}).
 */
final class AgentServices {

    /** The kata-agent's answer to every ResizeVolume (4.0.0+, rpc.rs), with code UNIMPLEMENTED. */
    static final String RESIZE_VOLUME_REFUSAL = "resize_volume is not implemented in kata-agent";

    /** The agent version this guest reports ({@code Version}, {@code GetGuestDetails}). */
    static final String AGENT_VERSION = "podvisor-testbed";

    private final GuestRoot root;
    private final StorageManager storages;
    private final Containers containers;
    private final GuestEvents events;
    private final CountDownLatch shutdown;
    private final GuestNetwork network;
    private final List<String> sandboxStorages = new ArrayList<>();
    private volatile String sandboxId = "";
    private volatile String hostname = "";

    /**
     * @param root     the guest root (GetVolumeStats)
     * @param shutdown counted down when the guest shuts down: releases the GetOOMEvent long-polls
     */
    AgentServices(GuestRoot root, StorageManager storages, Containers containers, GuestEvents events,
                  CountDownLatch shutdown) {
        this.root = root;
        this.storages = storages;
        this.containers = containers;
        this.events = events;
        this.shutdown = shutdown;
        this.network = new GuestNetwork(root, events);
    }

    /** The network calls' state (the resolv.conf bind), released at guest shutdown. */
    GuestNetwork network() {
        return network;
    }

    /** The sandbox id recorded by CreateSandbox ({@code ""} before). */
    String sandboxId() {
        return sandboxId;
    }

    /** The hostname recorded by CreateSandbox. */
    String hostname() {
        return hostname;
    }

    /** {@code grpc.Health}: Check → SERVING, Version → agent_version {@value #AGENT_VERSION}. */
    TtrpcService health() {
        TtrpcService.Builder b = TtrpcService.builder("grpc.Health");
        unary(b, "Check", CheckRequest.parser(), req -> HealthCheckResponse.newBuilder()
                .setStatus(HealthCheckResponse.ServingStatus.SERVING).build());
        unary(b, "Version", CheckRequest.parser(), req -> VersionCheckResponse.newBuilder()
                .setGrpcVersion("ttrpc").setAgentVersion(AGENT_VERSION).build());
        return b.build();
    }

    /** {@code grpc.AgentService}. */
    TtrpcService agent() {
        TtrpcService.Builder b = TtrpcService.builder("grpc.AgentService");
        unary(b, "CreateSandbox", CreateSandboxRequest.parser(), this::createSandbox);
        unary(b, "DestroySandbox", DestroySandboxRequest.parser(), req -> {
            destroySandbox();
            return Empty.getDefaultInstance();
        });
        unary(b, "CreateContainer", CreateContainerRequest.parser(), req -> {
            if (!req.hasOCI()) {
                throw new IllegalArgumentException("OCI: missing");
            }
            containers.create(req.getContainerId(), req.getOCI(), requests(req.getStoragesList()));
            return Empty.getDefaultInstance();
        });
        unary(b, "StartContainer", StartContainerRequest.parser(), req -> {
            containers.start(req.getContainerId());
            return Empty.getDefaultInstance();
        });
        unary(b, "RemoveContainer", RemoveContainerRequest.parser(), req -> {
            containers.remove(req.getContainerId());
            return Empty.getDefaultInstance();
        });
        unary(b, "ExecProcess", ExecProcessRequest.parser(), req -> {
            if (!req.hasProcess()) {
                throw new IllegalArgumentException("process: missing");
            }
            containers.exec(req.getContainerId(), req.getExecId(), req.getProcess());
            return Empty.getDefaultInstance();
        });
        unary(b, "SignalProcess", SignalProcessRequest.parser(), req -> {
            containers.process(req.getContainerId(), req.getExecId()).signal(req.getSignal());
            return Empty.getDefaultInstance();
        });
        unary(b, "WaitProcess", WaitProcessRequest.parser(), req -> WaitProcessResponse.newBuilder()
                .setStatus(containers.process(req.getContainerId(), req.getExecId()).awaitExit()).build());
        unary(b, "UpdateContainer", UpdateContainerRequest.parser(), req -> {
            if (req.hasResources()) {
                containers.update(req.getContainerId(), req.getResources());
            } else {
                containers.container(req.getContainerId());
            }
            return Empty.getDefaultInstance();
        });
        unary(b, "UpdateEphemeralMounts", UpdateEphemeralMountsRequest.parser(), req -> {
            storages.updateEphemeral(requests(req.getStoragesList()));
            return Empty.getDefaultInstance();
        });
        unary(b, "StatsContainer", StatsContainerRequest.parser(), req -> {
            containers.container(req.getContainerId());
            return StatsContainerResponse.newBuilder()
                    .setCgroupStats(CgroupReader.read(containers.cgroupParent() + "/" + req.getContainerId())).build();
        });
        unary(b, "PauseContainer", PauseContainerRequest.parser(), req -> {
            containers.pause(req.getContainerId(), true);
            return Empty.getDefaultInstance();
        });
        unary(b, "ResumeContainer", ResumeContainerRequest.parser(), req -> {
            containers.pause(req.getContainerId(), false);
            return Empty.getDefaultInstance();
        });
        unary(b, "WriteStdin", WriteStreamRequest.parser(), this::writeStdin);
        unary(b, "ReadStdout", ReadStreamRequest.parser(), req -> read(req, true));
        unary(b, "ReadStderr", ReadStreamRequest.parser(), req -> read(req, false));
        unary(b, "CloseStdin", CloseStdinRequest.parser(), req -> {
            containers.process(req.getContainerId(), req.getExecId()).closeStdin();
            return Empty.getDefaultInstance();
        });
        unary(b, "TtyWinResize", TtyWinResizeRequest.parser(), req -> {
            containers.process(req.getContainerId(), req.getExecId()).resize(req.getRow(), req.getColumn());
            return Empty.getDefaultInstance();
        });
        unary(b, "GetOOMEvent", GetOOMEventRequest.parser(), req -> {
            shutdown.await(); // this guest never sees an OOM; the long-poll ends with the VM
            throw new TtrpcException(Code.UNAVAILABLE, "guest is shutting down");
        });
        unary(b, "GetGuestDetails", GuestDetailsRequest.parser(), req -> GuestDetailsResponse.newBuilder()
                .setMemBlockSizeBytes(req.getMemBlockSize() ? 128L << 20 : 0)
                .setAgentDetails(AgentDetails.newBuilder().setVersion(AGENT_VERSION)
                        .addAllStorageHandlers(StorageManager.DRIVERS).addDeviceHandlers("blk"))
                .build());
        unary(b, "GetVolumeStats", VolumeStatsRequest.parser(), this::volumeStats);
        unary(b, "GetMetrics", GetMetricsRequest.parser(), req -> Metrics.getDefaultInstance());
        // kata-agent 4.0.0 and later (rpc.rs resize_volume): refused after the policy check, whatever the volume;
        // 3.x has no override and answers ttrpc's generated NOT_FOUND "/grpc.AgentService/ResizeVolume is not supported"
        unary(b, "ResizeVolume", dev.podvisor.protocols.agent.ResizeVolumeRequest.parser(), req -> {
            throw new TtrpcException(Code.UNIMPLEMENTED, RESIZE_VOLUME_REFUSAL);
        });
        unary(b, "UpdateInterface", UpdateInterfaceRequest.parser(), req -> network.updateInterface(req.getInterface()));
        unary(b, "UpdateRoutes", UpdateRoutesRequest.parser(), req -> network.updateRoutes(req.getRoutes()));
        unary(b, "ListInterfaces", ListInterfacesRequest.parser(), req -> network.listInterfaces());
        unary(b, "ListRoutes", ListRoutesRequest.parser(), req -> network.listRoutes());
        unary(b, "AddARPNeighbors", AddARPNeighborsRequest.parser(), req -> {
            network.addNeighbors(req.getNeighbors());
            return Empty.getDefaultInstance();
        });
        unary(b, "SetGuestDateTime", SetGuestDateTimeRequest.parser(), req -> Empty.getDefaultInstance());
        unary(b, "OnlineCPUMem", OnlineCPUMemRequest.parser(), req -> Empty.getDefaultInstance());
        unary(b, "SetPolicy", SetPolicyRequest.parser(), req -> Empty.getDefaultInstance());
        return b.build();
    }

    /** GetVolumeStats: statfs of the guest path, reported in bytes (the agent's BYTES usage). */
    private VolumeStatsResponse volumeStats(VolumeStatsRequest req) {
        java.nio.file.Path path = root.host("volume_guest_path", req.getVolumeGuestPath());
        if (!java.nio.file.Files.exists(path)) {
            throw new NoSuchElementException("volume_guest_path '" + req.getVolumeGuestPath() + "': not found");
        }
        FsStat stat = dev.podvisor.storage.linux.Linux.statfs(path.toString());
        long total = stat.blocks() * stat.blockSize();
        long free = stat.blocksFree() * stat.blockSize();
        return VolumeStatsResponse.newBuilder()
                .addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(total)
                        .setAvailable(free).setUsed(total - free))
                .setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(false))
                .build();
    }

    private Empty createSandbox(CreateSandboxRequest req) {
        List<String> taken = storages.add(requests(req.getStoragesList()));
        synchronized (sandboxStorages) {
            sandboxStorages.addAll(taken);
        }
        sandboxId = req.getSandboxId();
        hostname = req.getHostname();
        network.setupDns(req.getDnsList());
        return Empty.getDefaultInstance();
    }

    /** DestroySandbox: every container killed and deleted, every storage undone, every loop detached. */
    void destroySandbox() {
        containers.removeAll();
        synchronized (sandboxStorages) {
            sandboxStorages.clear();
        }
        storages.destroyAll();
    }

    /**
     * ReadStdout/ReadStderr: waits for output; at end of output answers OK with empty {@code data}, on every
     * later read too, as the kata-agent does since 3.27.0 ({@code rpc.rs do_read_stream}: a 0-byte read is
     * returned as is; up to 3.26 it failed with "read meet eof"). Kata's Go shim and Podvisor both take an
     * empty answer as end of stream.
     */
    private ReadStreamResponse read(ReadStreamRequest req, boolean stdout) throws InterruptedException {
        GuestProcess process = containers.process(req.getContainerId(), req.getExecId());
        byte[] data = (stdout ? process.stdout() : process.stderr()).read(req.getLen());
        if (data == null) {
            return ReadStreamResponse.getDefaultInstance(); // end of output: OK with no data
        }
        return ReadStreamResponse.newBuilder().setData(ByteString.copyFrom(data)).build();
    }

    /**
     * WriteStdin: writes the bytes; empty {@code data} closes stdin, as the kata-agent does
     * ({@code rpc.rs do_write_stream}: "EOF of stdin", 3.27.0 and later), answering {@code len} 0.
     */
    private WriteStreamResponse writeStdin(WriteStreamRequest req) {
        GuestProcess process = containers.process(req.getContainerId(), req.getExecId());
        if (req.getData().isEmpty()) {
            process.closeStdin();
            return WriteStreamResponse.newBuilder().setLen(0).build();
        }
        return WriteStreamResponse.newBuilder().setLen(process.writeStdin(req.getData().toByteArray())).build();
    }

    static List<StorageRequest> requests(List<Storage> storages) {
        List<StorageRequest> out = new ArrayList<>();
        for (Storage s : storages) {
            out.add(new StorageRequest(s.getDriver(), s.getDriverOptionsList(), s.getSource(), s.getFstype(),
                    s.getOptionsList(), s.getMountPoint(), s.hasFsGroup() ? s.getFsGroup().getGroupId() : null,
                    s.getShared()));
        }
        return out;
    }

    /** A handler body; may throw anything, mapped to a ttrpc status by {@link #unary}. */
    @FunctionalInterface
    interface Body<Req, Resp> {
        Resp apply(Req request) throws Exception;
    }

    private <Req extends Message, Resp extends MessageLite> void unary(TtrpcService.Builder builder, String method,
                                                                      Parser<Req> parser, Body<Req, Resp> body) {
        builder.unary(method, parser, (ctx, req) -> {
            Map<String, Object> request = describe(method, req);
            events.log("request", request);
            try {
                Resp resp = body.apply(req);
                Map<String, Object> answer = new LinkedHashMap<>(ids(method, req));
                answer.put("status", "OK");
                events.log("response", answer);
                return resp;
            } catch (Exception e) {
                TtrpcException status = status(e);
                Map<String, Object> answer = new LinkedHashMap<>(ids(method, req));
                answer.put("status", status.code().name());
                answer.put("message", String.valueOf(status.getMessage()));
                events.log("response", answer);
                throw status;
            }
        });
    }

    private static TtrpcException status(Exception e) {
        if (e instanceof TtrpcException t) {
            return t;
        }
        if (e instanceof NoSuchElementException) {
            return new TtrpcException(Code.NOT_FOUND, e.getMessage(), e);
        }
        if (e instanceof IllegalStateException && e.getMessage() != null && e.getMessage().endsWith("already exists")) {
            return new TtrpcException(Code.ALREADY_EXISTS, e.getMessage(), e);
        }
        if (e instanceof IllegalArgumentException) {
            return new TtrpcException(Code.INVALID_ARGUMENT, e.getMessage(), e);
        }
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            return new TtrpcException(Code.UNAVAILABLE, "guest is shutting down", e);
        }
        String message = e instanceof UncheckedIOException u && u.getCause() != null
                ? u.getCause().getMessage() : e.getMessage();
        return new TtrpcException(Code.INTERNAL, message == null ? e.toString() : message, e);
    }

    private static Map<String, Object> ids(String method, Message req) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("method", method);
        for (String name : List.of("container_id", "exec_id")) {
            FieldDescriptor field = req.getDescriptorForType().findFieldByName(name);
            if (field != null && !((String) req.getField(field)).isEmpty()) {
                map.put(name.equals("container_id") ? "containerId" : "execId", req.getField(field));
            }
        }
        return map;
    }

    private static Map<String, Object> describe(String method, Message req) {
        Map<String, Object> map = ids(method, req);
        FieldDescriptor field = req.getDescriptorForType().findFieldByName("storages");
        if (field != null && field.isRepeated()) {
            List<Map<String, Object>> list = new ArrayList<>();
            for (Object o : (List<?>) req.getField(field)) {
                Storage s = (Storage) o;
                Map<String, Object> one = new LinkedHashMap<>();
                one.put("driver", s.getDriver());
                one.put("source", s.getSource());
                one.put("fstype", s.getFstype());
                one.put("options", s.getOptionsList());
                one.put("mountPoint", s.getMountPoint());
                if (s.getDriverOptionsCount() > 0) {
                    one.put("driverOptions", s.getDriverOptionsList());
                }
                if (s.getShared()) {
                    one.put("shared", true);
                }
                list.add(one);
            }
            map.put("storages", list);
        }
        if (req instanceof SignalProcessRequest s) {
            map.put("signal", s.getSignal());
        }
        if (req instanceof CreateSandboxRequest c) {
            map.put("sandboxId", c.getSandboxId());
            map.put("hostname", c.getHostname());
        }
        return map;
    }
}
