package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.host.HostFacts;
import dev.podvisor.storage.host.MountInfoEntry;
import dev.podvisor.storage.spec.OciMount;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The storage planner: a pure function of a container's inputs and the host facts. It changes nothing; it reads the
 * host only through {@link HostFacts} (and reads {@link HostFacts#mounts()} once per plan).
 *
 * <p>Mounts: the first rule of the decision table that matches wins (see docs/storage.md and {@link #RULE_IDS}).
 * Rootfs: a block device or loop image with a filesystem is the rootfs (virtio-blk, no host mount, xfs gets
 * {@code nouuid}); a pre-mounted bundle whose rootfs is a device, or the {@code rootfs/} sub-directory of one, is
 * attached the same way; a rootfs that merely lives on a block-backed host filesystem is never hot-plugged
 * (kata-containers/runtime#2734); everything else is mounted on the host at {@code <bundle>/rootfs} and shared by
 * virtio-fs; {@code disable_block_device_use} forces the virtio-fs path.
 */
public final class StoragePlanner {

    /** The mount rule ids, in decision order. */
    public static final List<String> RULE_IDS = MountRule.ORDER.stream().map(MountRule::id).toList();

    private StoragePlanner() {
    }

    /**
     * Plans the storage of one container.
     *
     * @param input what to plan
     * @param facts the host
     * @return the plan
     * @throws PlanException when the inputs cannot be planned (the message names the annotation, mountInfo.json key
     *                       or mount, and the value)
     * @throws UncheckedIOException when a host fact cannot be read
     */
    public static StoragePlan plan(PlanInput input, HostFacts facts) {
        MountTable table = new MountTable(facts.mounts());
        PodStorageConfig pod = PodStorageConfig.parse(input.settings(), input.podAnnotations());
        PlanBuilder plan = new PlanBuilder(input, facts, table, pod);

        Rootfs rootfs = planRootfs(plan);

        List<OciMount> specMounts = input.spec().mounts();
        SpecialVolumeContext special = new SpecialVolumeContext(pod.specialVolumes().volumes(), pod.devices().keySet(),
                PodRole.of(input), input.containerId(), specMounts.stream().map(StoragePlanner::normalizedDestination).toList(),
                input.podSpecialVolumes(), List.of());
        SpecialVolumes.check(SpecialVolumeCheck.Stage.BEFORE_MOUNTS, special);
        List<MountDecision> decisions = new ArrayList<>(specMounts.size());
        List<OciMount> guestMounts = new ArrayList<>(specMounts.size());
        for (OciMount m : specMounts) {
            MountContext ctx = new MountContext(m, plan);
            PlanBuilder.Placement placed = null;
            for (MountRule rule : MountRule.ORDER) {
                Optional<PlanBuilder.Placement> p;
                try {
                    p = rule.apply(ctx);
                } catch (PlanException e) {
                    throw e.inRule(rule.id());
                }
                if (p.isPresent()) {
                    placed = p.get();
                    break;
                }
            }
            if (placed == null) {
                throw new IllegalStateException("no rule decided mount " + ctx.destination());
            }
            decisions.add(placed.decision());
            guestMounts.add(placed.guestMount());
        }
        SpecialVolumes.check(SpecialVolumeCheck.Stage.AFTER_MOUNTS, special.withDecisions(decisions));
        if (input.isSandboxContainer()) {
            planSandboxBindMounts(plan);
        }

        List<VirtioFsDevice> devices = new ArrayList<>();
        List<GuestStorage> sandboxStorages = new ArrayList<>();
        sandboxStorages.add(new GuestStorage("virtio-fs", List.of(), GuestPaths.KATA_SHARED, "virtiofs", List.of(),
                GuestPaths.SHARED_CONTAINERS, null, false, 0, null));
        pod.devices().forEach((name, args) -> {
            devices.add(new VirtioFsDevice(name, args, GuestPaths.deviceMountPoint(name)));
            sandboxStorages.add(new GuestStorage("virtio-fs", List.of(), name, "virtiofs", List.of(),
                    GuestPaths.deviceMountPoint(name), null, false, 0, null));
        });
        sandboxStorages.add(new GuestStorage("ephemeral", List.of(), "shm", "tmpfs",
                List.of("noexec", "nosuid", "nodev", "mode=1777", "size=" + plan.shmBytes), GuestPaths.SHM, null, false, plan.shmBytes, null));

        return new StoragePlan(input.sandboxId(), input.containerId(), rootfs.decision, decisions, devices, plan.disks,
                plan.actions, new ArrayList<>(plan.storages.values()), sandboxStorages, guestMounts, rootfs.decision.guestPath());
    }

    private static String normalizedDestination(OciMount m) {
        return m.destination().startsWith("/") ? Path.of(m.destination()).normalize().toString() : m.destination();
    }

    private record Rootfs(RootfsDecision decision) {
    }

    private static Rootfs planRootfs(PlanBuilder plan) {
        PlanInput in = plan.input;
        HostFacts facts = plan.facts;
        String cid = in.containerId();
        String guestRoot = GuestPaths.SHARED_CONTAINERS + "/" + cid + "/rootfs";
        boolean noBlock = in.settings().disableBlockDeviceUse();
        List<RootfsMount> mounts = in.rootfsMounts();

        if (mounts.size() == 1) {
            RootfsMount m = mounts.getFirst();
            boolean hasFs = !m.type().isEmpty() && !m.type().equals("bind") && !m.type().equals("none") && !m.type().equals("overlay");
            Optional<FileStat> st = m.source().startsWith("/") ? facts.stat(Path.of(m.source())) : Optional.empty();
            boolean block = hasFs && st.map(FileStat::isBlockDevice).orElse(false);
            boolean loop = hasFs && m.options().contains("loop") && st.map(FileStat::isRegularFile).orElse(false);
            if (block || loop) {
                String what = (block ? "block device " : "image file ") + m.source() + " with " + m.type();
                if (noBlock) {
                    return hostMounted(plan, guestRoot, "rootfs-host-mount", "rootfs is " + what
                            + ", but disable_block_device_use = true; mounted on the host at <bundle>/rootfs and shared by virtio-fs");
                }
                List<String> options = new ArrayList<>(m.options());
                options.remove("loop");
                boolean ro = options.contains("ro");
                if (m.type().equals("xfs") && !options.contains("nouuid")) {
                    options.add("nouuid");
                }
                String hostPath = facts.realPath(Path.of(m.source())).toString();
                String id = plan.disk(hostPath, ro, DiskAttachment.DiskType.VIRTIO_BLK);
                plan.action(new HostAction.ShareMountPoint(GuestPaths.KATA_SHARED, cid + "/rootfs"));
                plan.storage(new GuestStorage("blk", List.of(), "disk:" + id, m.type(), options, guestRoot, null, false, 0, id));
                return new Rootfs(new RootfsDecision(MountKind.VIRTIO_BLK, false, guestRoot, id, hostPath,
                        block ? "rootfs-block-device" : "rootfs-loop-file",
                        "rootfs is " + what + " (a block snapshotter): attached as virtio-blk, containerd's mount is not performed on the host"
                                + (m.type().equals("xfs") ? "; xfs gets nouuid" : "")));
            }
        }
        if (!mounts.isEmpty()) {
            String types = String.join("+", mounts.stream().map(RootfsMount::type).toList());
            return hostMounted(plan, guestRoot, "rootfs-host-mount", "rootfs is " + types
                    + "; mounted on the host at <bundle>/rootfs and shared by virtio-fs");
        }

        // Pre-mounted bundle.
        Path rootPath = in.bundle().resolve(in.spec().rootPath().orElse("rootfs")).normalize();
        Path real;
        try {
            real = facts.realPath(rootPath);
        } catch (UncheckedIOException e) {
            throw new PlanException("config.json 'root.path': " + rootPath + " does not exist on the host", e);
        }
        Optional<MountInfoEntry> holder = plan.table.containing(real);
        if (holder.isPresent() && holder.get().source().startsWith("/")) {
            MountInfoEntry h = holder.get();
            boolean isBlock = facts.stat(Path.of(h.source())).map(FileStat::isBlockDevice).orElse(false);
            String inFs = plan.table.pathInFilesystem(real).orElse("");
            boolean whole = inFs.equals("/");
            boolean subdir = inFs.equals("/rootfs");
            if (isBlock && (whole || subdir)) {
                String what = "pre-mounted rootfs " + real + " is " + (whole ? "" : "the rootfs/ sub-directory of ") + "block device "
                        + h.source() + " (" + h.fsType() + " at " + h.mountPoint() + ")";
                if (!noBlock) {
                    String hostPath = facts.realPath(Path.of(h.source())).toString();
                    boolean ro = h.mountOptions().contains("ro");
                    String id = plan.disk(hostPath, ro, DiskAttachment.DiskType.VIRTIO_BLK);
                    List<String> options = new ArrayList<>();
                    if (ro) {
                        options.add("ro");
                    }
                    if (h.fsType().equals("xfs")) {
                        options.add("nouuid");
                    }
                    String mp = whole ? guestRoot : GuestPaths.SHARED_CONTAINERS + "/" + cid;
                    plan.action(new HostAction.ShareMountPoint(GuestPaths.KATA_SHARED, whole ? cid + "/rootfs" : cid));
                    plan.storage(new GuestStorage("blk", List.of(), "disk:" + id, h.fsType(), options, mp, null, false, 0, id));
                    return new Rootfs(new RootfsDecision(MountKind.VIRTIO_BLK, false, guestRoot, id, hostPath,
                            whole ? "rootfs-block-device" : "rootfs-device-subdir",
                            what + ": attached as virtio-blk" + (whole ? "" : ", guest rootfs is its rootfs/ sub-directory")
                                    + (h.fsType().equals("xfs") ? "; xfs gets nouuid" : "")));
                }
                return premounted(plan, real, guestRoot, what + ", but disable_block_device_use = true; shared by virtio-fs");
            }
            if (isBlock) {
                return premounted(plan, real, guestRoot, "pre-mounted rootfs " + real + " merely lives on " + h.source() + " (" + h.fsType()
                        + " at " + h.mountPoint() + "), a filesystem the host uses: never hot-plugged; shared by virtio-fs");
            }
        }
        return premounted(plan, real, guestRoot, "pre-mounted rootfs " + real + "; shared by virtio-fs");
    }

    private static Rootfs hostMounted(PlanBuilder plan, String guestRoot, String rule, String reason) {
        String target = plan.input.bundle().resolve("rootfs").toString();
        plan.action(new HostAction.RootfsHostMount(plan.input.rootfsMounts(), target));
        plan.action(new HostAction.ShareBind(GuestPaths.KATA_SHARED, plan.input.containerId() + "/rootfs", target, false, true));
        return new Rootfs(new RootfsDecision(MountKind.VIRTIO_FS, true, guestRoot, GuestPaths.KATA_SHARED, target, rule, reason));
    }

    private static Rootfs premounted(PlanBuilder plan, Path real, String guestRoot, String reason) {
        plan.action(new HostAction.ShareBind(GuestPaths.KATA_SHARED, plan.input.containerId() + "/rootfs", real.toString(), false, true));
        return new Rootfs(new RootfsDecision(MountKind.VIRTIO_FS, false, guestRoot, GuestPaths.KATA_SHARED, real.toString(), "rootfs-bundle", reason));
    }

    private static void planSandboxBindMounts(PlanBuilder plan) {
        Map<String, String> seen = new HashMap<>();
        for (PodStorageConfig.SandboxBindMount b : plan.pod.sandboxBindMounts()) {
            Path real;
            try {
                real = plan.facts.realPath(Path.of(b.hostPath()));
            } catch (UncheckedIOException e) {
                throw new PlanException(b.source() + ": host path '" + b.hostPath() + "' does not exist", e);
            }
            Path file = real.getFileName();
            String base = file == null ? "root" : file.toString();
            String key = b.device() + "/" + base;
            String before = seen.put(key, b.hostPath());
            if (before != null) {
                throw new PlanException(b.source() + ": host path '" + b.hostPath()
                        + "' has the same name '" + base + "' as '" + before + "' on device " + b.device());
            }
            boolean dir = plan.facts.stat(real).map(FileStat::isDirectory).orElse(true);
            plan.action(new HostAction.ShareBind(b.device(), "sandbox-mounts/" + base, real.toString(), b.readOnly(), dir));
        }
    }
}
