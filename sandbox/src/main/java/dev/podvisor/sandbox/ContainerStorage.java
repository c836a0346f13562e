package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.FSGroup;
import dev.podvisor.protocols.agent.types.FSGroupChangePolicy;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.agent.OciSpecConverter;
import dev.podvisor.sandbox.config.PodvisorConfig;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.storage.exec.AttachedDisk;
import dev.podvisor.storage.exec.DiskAttacher;
import dev.podvisor.storage.exec.ExecutionRecord;
import dev.podvisor.storage.exec.MountOperations;
import dev.podvisor.storage.exec.PlanExecutor;
import dev.podvisor.storage.exec.SandboxDisks;
import dev.podvisor.storage.exec.SandboxShares;
import dev.podvisor.storage.host.HostFacts;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.linux.LiveHostFacts;
import dev.podvisor.storage.plan.EmptyDirMode;
import dev.podvisor.storage.plan.GuestPaths;
import dev.podvisor.storage.directvolume.DirectVolumeStore;
import dev.podvisor.storage.plan.GuestStorage;
import dev.podvisor.storage.plan.MountDecision;
import dev.podvisor.storage.plan.PlanException;
import dev.podvisor.storage.plan.PlanInput;
import dev.podvisor.storage.plan.PlannerSettings;
import dev.podvisor.storage.plan.RootfsMount;
import dev.podvisor.storage.plan.SpecialVolumeClaim;
import dev.podvisor.storage.plan.StoragePlan;
import dev.podvisor.storage.plan.StoragePlanner;
import dev.podvisor.storage.spec.OciSpec;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod's storage on the host side: plans each container with {@link StoragePlanner} against the live host,
 * executes the plan (rootfs host mount, shares bound into the virtio-fs directories, disks hot-plugged
 * through the VM), turns its guest storages into the agent's {@code Storage} messages, and undoes it all.
 * The per-container {@link ExecutionRecord} is what the sandbox persists, so {@code delete} can undo it after
 * the daemon is gone.
 */
final class ContainerStorage {

    private final PodvisorConfig config;
    private final String sandboxId;
    private final LogfmtLog log;
    private final MountOperations ops;
    private final SandboxShares shares;
    private volatile PlanExecutor executor;
    private volatile PodMetrics observed; // null until observe(): no registry is built for nothing

    private ContainerStorage(PodvisorConfig config, String sandboxId, LogfmtLog log, MountOperations ops,
                             SandboxShares shares) {
        this.config = config;
        this.sandboxId = sandboxId;
        this.log = log;
        this.ops = ops;
        this.shares = shares;
    }

    /**
     * Prepares the sandbox's default virtio-fs directories ({@code <shared root>/<sid>/kataShared/rw} and its
     * read-only bind {@code ro}, which virtiofsd serves).
     */
    static ContainerStorage create(PodvisorConfig config, String sandboxId, LogfmtLog log) {
        MountOperations ops = new HostMountOperations();
        SandboxShares shares = new SandboxShares(config.podvisor().sharedRoot(), sandboxId, ops);
        // 0700 before anything is bound below: no host user walks through to a bind source or a rootfs
        dev.podvisor.storage.linux.PrivateDirs.create(shares.writableDir(GuestPaths.KATA_SHARED).getParent());
        dev.podvisor.storage.linux.PrivateDirs.create(shares.writableDir(GuestPaths.KATA_SHARED));
        shares.prepare(GuestPaths.KATA_SHARED);
        return new ContainerStorage(config, sandboxId, log, ops, shares);
    }

    /** The directory virtiofsd serves as the {@code kataShared} device. */
    Path sharedDirectory() {
        return shares.sharedDir(GuestPaths.KATA_SHARED);
    }

    /** The directory served for an extra virtio-fs device (prepared on first use). */
    Path sharedDirectory(String device) {
        shares.prepare(device);
        extraDevices.add(device);
        return shares.sharedDir(device);
    }

    private final java.util.Set<String> extraDevices = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * The pod's extra virtio-fs devices, from the planner's view of the sandbox container's spec (the
     * configuration's {@code extra_virtiofs} and the sandbox's {@code extra_virtiofs} annotation), each with its
     * shared directory prepared: the VM gets them cold-plugged at boot.
     */
    List<VirtualMachine.ExtraFsDevice> sandboxDevices(Path bundle) {
        Path absolute = bundle.toAbsolutePath();
        OciSpec spec;
        try {
            spec = OciSpec.parse(Files.readAllBytes(absolute.resolve("config.json")));
        } catch (IOException e) {
            throw new IllegalArgumentException(absolute.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
        PlanInput input = new PlanInput(plannerSettings(config), sandboxId, sandboxId, true, spec.annotations(), spec,
                List.of(), absolute);
        StoragePlan plan = StoragePlanner.plan(input, new LiveHostFacts(config.podvisor().directVolumesRoot()));
        ResourceLimits.checkExtraVirtiofs(plan.virtioFsDevices().size(), config.podvisor());
        return plan.virtioFsDevices().stream()
                .map(device -> new VirtualMachine.ExtraFsDevice(device.name(), device.virtiofsArgs(),
                        sharedDirectory(device.name())))
                .toList();
    }

    /** Reports plans, refusals, releases and hot-plugs to {@code podMetrics} from now on. */
    void observe(PodMetrics podMetrics) {
        this.observed = podMetrics;
    }

    private PodMetrics metrics() {
        PodMetrics m = observed;
        return m != null ? m : PodMetrics.unobserved();
    }

    /** Hot-plugs disks through {@code vm} from now on. */
    void attachTo(VirtualMachine vm) {
        executor = new PlanExecutor(ops, shares, new SandboxDisks(vmDisks(vm, metrics(), log)));
    }

    /**
     * The VM as the executor's disk attacher: {@code vm.add-disk} timed into {@code metrics}; detach is
     * {@link DiskUnplug} (never throws, so a failed unplug never fails a container's delete).
     */
    static DiskAttacher vmDisks(VirtualMachine vm, PodMetrics metrics, LogfmtLog log) {
        DiskUnplug unplug = new DiskUnplug(vm::removeDevice, log, metrics);
        return new DiskAttacher() {
            @Override
            public AttachedDisk attach(Path hostPath, boolean readOnly) {
                long started = System.nanoTime();
                VirtualMachine.AttachedDisk disk = vm.attachDisk(hostPath, readOnly);
                metrics.hotplugged("disk", java.time.Duration.ofNanos(System.nanoTime() - started));
                return new AttachedDisk(disk.id(), disk.pciPath());
            }

            @Override
            public void detach(String id) {
                unplug.unplug(id);
            }
        };
    }

    /**
     * What a container needs in the guest, after its host side was set up.
     *
     * @param plan          the plan (for logs and the sandbox-wide storages)
     * @param createRequest the agent's CreateContainer request
     * @param storages      the container's agent storages (those with a size are resized after creation)
     * @param hostSetup     the execution record as JSON, to persist
     */
    record Prepared(StoragePlan plan, CreateContainerRequest createRequest, List<Storage> storages, JsonNode hostSetup) {
    }

    /**
     * Plans and executes the storage of one container.
     *
     * @throws IllegalArgumentException for a spec or annotation the planner refuses (the message names it)
     */
    Prepared prepare(PodSandbox.ContainerRequest request) {
        Path bundle = Path.of(request.bundle()).toAbsolutePath();
        OciSpec spec;
        try {
            spec = OciSpec.parse(Files.readAllBytes(bundle.resolve("config.json")));
        } catch (IOException e) {
            throw new IllegalArgumentException(bundle.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
        ResourceLimits.checkMounts(request.id(), spec.mounts().size(), config.podvisor());
        List<RootfsMount> rootfs = request.rootfs().stream()
                .map(m -> new RootfsMount(m.type(), m.source(), m.options())).toList();
        PlanInput input = new PlanInput(plannerSettings(config), sandboxId, request.id(),
                request.id().equals(sandboxId), spec.annotations(), spec, rootfs, bundle)
                .withPodSpecialVolumes(podClaims(request.id()));
        HostFacts facts = new LiveHostFacts(config.podvisor().directVolumesRoot());
        StoragePlan plan;
        try {
            plan = StoragePlanner.plan(input, facts);
        } catch (PlanException e) {
            String rule = e.rule().isEmpty() ? "input" : e.rule();
            metrics().planFailed(rule);
            log.warn("plan refused", "container", request.id(), "rule", rule, "error", e.getMessage());
            throw e;
        }
        explain(plan);
        metrics().planned(plan);
        // an extra virtio-fs device's rw/ro layout must exist before any share is bound into it
        for (var device : plan.virtioFsDevices()) {
            sharedDirectory(device.name());
        }
        ExecutionRecord record = executor.execute(plan);
        recordDirectVolumeUse(plan);
        try {
            List<Storage> storages = record.resolve(plan.storages()).stream().map(ContainerStorage::toAgent).toList();
            Spec guestSpec = OciSpecConverter.toAgentSpec(forGuest(plan.guestSpec(spec)));
            CreateContainerRequest create = CreateContainerRequest.newBuilder()
                    .setContainerId(request.id())
                    .setExecId(request.id())
                    .addAllStorages(storages)
                    .setOCI(guestSpec)
                    .setSandboxPidns(false)
                    .build();
            specialVolumeClaims.put(request.id(), plan.specialVolumeClaims());
            return new Prepared(plan, create, storages, record.toJson());
        } catch (RuntimeException e) {
            executor.undo(record);
            throw e;
        }
    }

    /** Container id to the special volumes it sent to extra devices: what the pod's next containers must agree with. */
    private final Map<String, Map<String, SpecialVolumeClaim>> specialVolumeClaims = new java.util.concurrent.ConcurrentHashMap<>();

    private Map<String, SpecialVolumeClaim> podClaims(String exceptContainer) {
        Map<String, SpecialVolumeClaim> claims = new LinkedHashMap<>();
        specialVolumeClaims.forEach((container, own) -> {
            if (!container.equals(exceptContainer)) {
                own.forEach(claims::putIfAbsent);
            }
        });
        return claims;
    }

    /**
     * Leaves the sandbox-id file in each direct volume's record, which {@code direct-volume stats|resize} use to
     * find this shim (Kata: RecordSandboxID at container creation). A failure is logged: the volume still works.
     */
    private void recordDirectVolumeUse(StoragePlan plan) {
        DirectVolumeStore store = new DirectVolumeStore(config.podvisor().directVolumesRoot());
        for (MountDecision decision : plan.mounts()) {
            if (decision.rule().equals("direct-volume")) {
                try {
                    store.recordSandbox(sandboxId, decision.source());
                } catch (RuntimeException e) {
                    log.warn("direct volume's sandbox not recorded", "source", decision.source(), "error", e.getMessage());
                }
            }
        }
    }

    /** Logs each decision with its rule and reason (what {@code podvisor plan} prints). */
    private void explain(StoragePlan plan) {
        log.info("rootfs planned", "container", plan.containerId(), "kind", plan.rootfs().kind().wireName(),
                "host_mount", plan.rootfs().hostMount(), "rule", plan.rootfs().rule(), "reason", plan.rootfs().reason());
        for (MountDecision decision : plan.mounts()) {
            log.info("mount planned", "container", plan.containerId(), "destination", decision.destination(),
                    "source", decision.source(), "kind", decision.kind().wireName(), "device", decision.device(),
                    "size_bytes", decision.sizeBytes(), "read_only", decision.readOnly(), "rule", decision.rule(),
                    "reason", decision.reason());
        }
    }

    /** Namespaces a container never gets in the guest (Kata Go {@code constrainGRPCSpec}). */
    private static final java.util.Set<String> HOST_ONLY_NAMESPACES = java.util.Set.of("network", "cgroup", "time");

    /**
     * The guest's view of the spec (Kata Go {@code kata_agent.go constrainGRPCSpec}): hooks run on the host in
     * Kata and never in the guest; the {@code network}, {@code cgroup} and {@code time} namespace entries are
     * dropped (containers share the guest's network namespace, where the agent configured the NICs); the other
     * entries lose their paths, which name host namespaces (the pause container's) and mean nothing inside
     * the VM.
     */
    static JsonNode forGuest(OciSpec guestSpec) {
        ObjectNode tree = guestSpec.raw().deepCopy();
        tree.remove("hooks");
        JsonNode namespaces = tree.path("linux").path("namespaces");
        if (namespaces.isArray()) {
            var kept = JsonTrees.NODES.arrayNode();
            for (JsonNode namespace : namespaces) {
                if (!HOST_ONLY_NAMESPACES.contains(namespace.path("type").asText())) {
                    kept.add(((ObjectNode) namespace).without("path"));
                }
            }
            ((ObjectNode) tree.path("linux")).set("namespaces", kept);
        }
        return tree;
    }

    /** The planner's settings from the configuration. */
    static PlannerSettings plannerSettings(PodvisorConfig config) {
        Map<String, List<String>> extra = new LinkedHashMap<>();
        config.clh().extraVirtiofs().forEach(device -> extra.put(device.name(), device.virtiofsdArgs()));
        EmptyDirMode mode = switch (config.runtime().emptydirMode()) {
            case BLOCK_PLAIN -> EmptyDirMode.BLOCK_PLAIN;
            default -> EmptyDirMode.SHARED_FS;
        };
        return new PlannerSettings(mode, config.clh().disableBlockDeviceUse(), extra, config.clh().enableAnnotations(),
                config.runtime().sandboxBindMounts());
    }

    /** Sizes guest tmpfs storages: the stock agent drops {@code size=} at creation (see the design). */
    void resizeEphemeral(AgentClient agent, List<Storage> storages, List<GuestStorage> planned) {
        List<Storage> resized = new java.util.ArrayList<>();
        for (int i = 0; i < planned.size(); i++) {
            GuestStorage storage = planned.get(i);
            if (storage.driver().equals("ephemeral") && storage.sizeBytes() > 0) {
                resized.add(storages.get(i).toBuilder().clearOptions()
                        .addOptions("remount").addOptions("size=" + storage.sizeBytes()).build());
            }
        }
        if (!resized.isEmpty()) {
            agent.updateEphemeralMounts(resized);
            for (Storage storage : resized) {
                verifySize(agent, storage.getMountPoint(), sizeOf(storage));
            }
        }
    }

    /**
     * Checks with {@code GetVolumeStats} that the guest sees the size it was given (tmpfs rounds up to whole
     * pages). A mismatch is an error: the container would silently get another size than its volume.
     */
    private void verifySize(AgentClient agent, String mountPoint, long wantBytes) {
        long seen;
        try {
            seen = agent.volumeTotalBytes(mountPoint);
        } catch (dev.podvisor.protocols.ttrpc.TtrpcException e) {
            if (e.code() == dev.podvisor.protocols.ttrpc.Code.UNIMPLEMENTED) {
                log.warn("guest tmpfs size not checked: the agent has no GetVolumeStats", "mount_point", mountPoint);
                return;
            }
            throw e;
        }
        long page = 4096;
        if (seen >= 0 && (seen < wantBytes || seen > wantBytes + page)) {
            throw new IllegalStateException("guest tmpfs " + mountPoint + ": wanted " + wantBytes
                    + " bytes, the guest sees " + seen + " after UpdateEphemeralMounts");
        }
        log.info("guest tmpfs sized", "mount_point", mountPoint, "size_bytes", wantBytes, "guest_sees_bytes", seen);
    }

    private static long sizeOf(Storage resized) {
        for (String option : resized.getOptionsList()) {
            if (option.startsWith("size=")) {
                return Long.parseLong(option.substring("size=".length()));
            }
        }
        throw new IllegalStateException("no size= in " + resized.getOptionsList());
    }

    static Storage toAgent(GuestStorage storage) {
        Storage.Builder builder = Storage.newBuilder()
                .setDriver(storage.driver())
                .addAllDriverOptions(storage.driverOptions())
                .setSource(storage.source())
                .setFstype(storage.fstype())
                .addAllOptions(storage.options())
                .setMountPoint(storage.mountPoint())
                .setShared(storage.shared());
        if (storage.fsGroup() != null) {
            builder.setFsGroup(FSGroup.newBuilder().setGroupId(storage.fsGroup().groupId())
                    .setGroupChangePolicy(storage.fsGroup().onRootMismatch()
                            ? FSGroupChangePolicy.OnRootMismatch : FSGroupChangePolicy.Always));
        }
        return builder.build();
    }

    /** Undoes one container's host setup (idempotent). */
    void release(String containerId, JsonNode hostSetup) {
        metrics().released(containerId);
        specialVolumeClaims.remove(containerId);
        if (hostSetup == null || hostSetup.isNull()) {
            return;
        }
        ExecutionRecord record;
        try {
            record = ExecutionRecord.fromJson(hostSetup);
        } catch (IOException e) {
            throw new UncheckedIOException("container " + containerId + ": unreadable host setup record", e);
        }
        executor.undo(record);
    }

    /**
     * What the sandbox holds for the pod's volumes (pod-scoped shares and disks, {@code StorageScope.POD}) as JSON,
     * to persist with the sandbox state; null before any.
     */
    JsonNode podSetup() {
        if (executor == null) {
            return null;
        }
        ExecutionRecord pod = executor.podRecord(sandboxId);
        return pod.steps().isEmpty() ? null : pod.toJson();
    }

    /**
     * Releases the pod-scoped shares and disks: the sandbox is ending, after its containers were released and
     * DestroySandbox unmounted everything in the guest, and while the VM still runs (a disk is detached from it).
     */
    void releasePod() {
        if (executor != null) {
            executor.undoPod(executor.podRecord(sandboxId));
        }
    }

    /** Unmounts and removes the sandbox's share directories (after every container was released). */
    void releaseSandbox() {
        for (String device : extraDevices) {
            shares.teardown(device);
        }
        shares.teardown(GuestPaths.KATA_SHARED);
    }
}
