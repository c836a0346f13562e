package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.host.HostFacts;
import dev.podvisor.storage.spec.OciMount;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Accumulates the parts of one plan while the rules decide; shared helpers for the placements rules make. */
final class PlanBuilder {

    final PlanInput input;
    final HostFacts facts;
    final MountTable table;
    final PodStorageConfig pod;

    final List<DiskAttachment> disks = new ArrayList<>();
    private final Map<String, Integer> diskIndexByPath = new HashMap<>();
    final List<HostAction> actions = new ArrayList<>();
    private final Map<String, HostAction> shareByKey = new HashMap<>();
    final LinkedHashMap<String, GuestStorage> storages = new LinkedHashMap<>();
    long shmBytes = GuestPaths.DEFAULT_SHM_BYTES;
    private final MessageDigest sha256 = newSha256();

    PlanBuilder(PlanInput input, HostFacts facts, MountTable table, PodStorageConfig pod) {
        this.input = input;
        this.facts = facts;
        this.table = table;
        this.pod = pod;
    }

    /** Adds (or reuses, by host path) a container-scoped disk; a disk wanted read-write by any user is attached read-write. */
    String disk(String hostPath, boolean readOnly, DiskAttachment.DiskType type) {
        return disk(hostPath, readOnly, type, StorageScope.CONTAINER);
    }

    /** As above with a scope; a disk that any user needs for the pod is held by the pod. */
    String disk(String hostPath, boolean readOnly, DiskAttachment.DiskType type, StorageScope scope) {
        Integer i = diskIndexByPath.get(hostPath);
        if (i != null) {
            DiskAttachment d = disks.get(i);
            boolean ro = d.readOnly() && readOnly;
            StorageScope widest = d.scope() == StorageScope.POD ? StorageScope.POD : scope;
            disks.set(i, new DiskAttachment(d.id(), d.hostPath(), ro, d.type(), widest));
            return d.id();
        }
        String id = "disk" + disks.size();
        diskIndexByPath.put(hostPath, disks.size());
        disks.add(new DiskAttachment(id, hostPath, readOnly, type, scope));
        return id;
    }

    /**
     * Shares {@code realSource} on {@code device}; returns the share name. One bind per (device, source, mode): a
     * read-only user gets its own read-only bind, so read-only is enforced on the host. A pod-scoped share is held by
     * the sandbox ({@link StorageScope}).
     */
    String share(String device, Path realSource, boolean readOnly, boolean directory, StorageScope scope) {
        String name = shareName(sha256, realSource.toString(), readOnly);
        String key = device + "\0" + name;
        if (!shareByKey.containsKey(key)) {
            HostAction a = new HostAction.ShareBind(device, name, realSource.toString(), readOnly, directory, scope);
            shareByKey.put(key, a);
            actions.add(a);
        }
        return name;
    }

    /** Adds a host action once (by equality). */
    void action(HostAction a) {
        String key = a.toString();
        if (!shareByKey.containsKey(key)) {
            shareByKey.put(key, a);
            actions.add(a);
        }
    }

    /** Adds a storage, once per guest mount point (the agent ref-counts by mount point too). */
    void storage(GuestStorage s) {
        storages.putIfAbsent(s.mountPoint(), s);
    }

    /**
     * The deterministic share name of a bind source within a sandbox: {@code sandbox-<8 hex of sha256(source)>-<basename>},
     * with {@code -ro} after the hash for read-only binds.
     */
    static String shareName(String realSource, boolean readOnly) {
        return shareName(newSha256(), realSource, readOnly);
    }

    private static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String shareName(MessageDigest sha256, String realSource, boolean readOnly) {
        byte[] digest = sha256.digest(realSource.getBytes(StandardCharsets.UTF_8));
        Path file = Path.of(realSource).getFileName();
        String base = file == null ? "root" : file.toString();
        return "sandbox-" + HexFormat.of().formatHex(digest, 0, 4) + (readOnly ? "-ro-" : "-") + base;
    }

    /** The container's options with a bind flag ensured (a guest source is always bound into the container). */
    static List<String> bindOptions(List<String> options) {
        if (options.contains("bind") || options.contains("rbind")) {
            return options;
        }
        List<String> out = new ArrayList<>(options);
        out.add("rbind");
        return out;
    }

    /** The rewritten guest mount for a bind from {@code guestPath}. */
    static OciMount guestBind(OciMount m, String guestPath) {
        return new OciMount(m.destination(), "bind", guestPath, bindOptions(m.options()));
    }

    /** {@code fsgid=} handling: the gid of the host directory when it is not 0. */
    Optional<Integer> fsGroup(Path dir) {
        return facts.stat(dir).map(FileStat::gid).filter(g -> g != 0);
    }

    // ---------------------------------------------------------------- placements shared by several rules

    /** Guest tmpfs for an emptyDir (or a subPath of one): pod-scoped, so it outlives the containers that use it. */
    Placement guestTmpfs(MountContext ctx, EmptyDirRef ref, long sizeBytes, String rule, String reason) {
        String mp = GuestPaths.EPHEMERAL + "/" + ref.volume();
        Optional<Integer> gid = fsGroup(ref.dir());
        storage(new GuestStorage("ephemeral", List.of(), "tmpfs", "tmpfs",
                gid.map(g -> List.of("fsgid=" + g)).orElse(List.of()), mp, null, true, sizeBytes, null));
        String guestPath = subdirInGuest(ref, mp);
        String why = reason + gid.map(g -> "; fsgid=" + g + " (host dir gid)").orElse("");
        return ctx.placement(MountKind.GUEST_TMPFS, "", sizeBytes, rule, why, guestPath, StorageScope.POD);
    }

    /**
     * The guest path of {@code ref} under the guest volume {@code mp}. For a subPath, kubelet made the sub-directory on
     * the host only; the guest volume is fresh, so an agent {@code local} Storage (mkdir -p, mode and fsgid) makes it
     * there, after the volume's own Storage. It is pod-scoped like its volume: the agent never removes it (and what
     * the containers wrote in it) before the sandbox ends.
     */
    private String subdirInGuest(EmptyDirRef ref, String mp) {
        if (ref.subdir().isEmpty()) {
            return mp;
        }
        String guestPath = mp + "/" + ref.subdir();
        Optional<FileStat> host = facts.stat(ref.dir().resolve(ref.subdir()));
        int mode = host.map(FileStat::mode).orElse(0750) & 07777;
        List<String> options = new ArrayList<>(List.of("mode=0" + Integer.toOctalString(mode)));
        host.map(FileStat::gid).filter(g -> g != 0).ifPresent(g -> options.add("fsgid=" + g));
        storage(new GuestStorage("local", List.of(), "local", "local", options, guestPath, null, true, 0, null));
        return guestPath;
    }

    /** Guest hugetlbfs for an emptyDir on hugetlbfs: pod-scoped. */
    Placement guestHugetlbfs(MountContext ctx, EmptyDirRef ref, long pageBytes, long sizeBytes, String rule, String reason) {
        String mp = GuestPaths.EPHEMERAL + "/" + ref.volume();
        storage(new GuestStorage("ephemeral", List.of(), "nodev", "hugetlbfs",
                List.of("pagesize=" + pageBytes, "size=" + sizeBytes), mp, null, true, 0, null));
        String guestPath = subdirInGuest(ref, mp);
        return ctx.placement(MountKind.GUEST_HUGETLBFS, "", sizeBytes, rule, reason, guestPath, StorageScope.POD);
    }

    /** A disk emptyDir per {@code emptydir_mode}: never guest RAM; pod-scoped either way. */
    Placement diskEmptyDir(MountContext ctx, EmptyDirRef ref, String rule, String reason) {
        if (input.settings().emptyDirMode() == EmptyDirMode.SHARED_FS) {
            return shareOn(ctx, GuestPaths.KATA_SHARED, rule,
                    reason + "; emptydir_mode shared-fs: shared by virtio-fs so kubelet's disk accounting and eviction keep working");
        }
        if (ref.isSubPath()) {
            throw new PlanException("mount " + ctx.destination() + ": a subPath of " + ref.describe()
                    + " cannot be served with emptydir_mode block-plain (the guest disk does not hold the host's sub-directories)");
        }
        long size = facts.statfs(ref.dir()).totalBytes();
        String image = ref.dir().resolve("disk.img").toString();
        action(new HostAction.CreateSparseFile(image, size));
        String id = disk(image, false, DiskAttachment.DiskType.VIRTIO_BLK, StorageScope.POD);
        String mp = GuestPaths.STORAGE + "/" + GuestPaths.base64Url(ref.dir().toString());
        GuestStorage.FsGroup group = fsGroup(ref.dir()).map(g -> new GuestStorage.FsGroup(g, false)).orElse(null);
        // the kata-agent (4.x) runs mkfs.ext4 -F whenever create_filesystem is set: an image that holds ext4 already
        // (made by an earlier sandbox of the pod, whose emptyDir kubelet keeps) is mounted with its data
        boolean formatted = facts.stat(Path.of(image)).isPresent() && facts.probeFilesystem(Path.of(image)).holds("ext4");
        storage(new GuestStorage("blk", formatted ? List.of() : List.of("create_filesystem"), "disk:" + id, "ext4",
                List.of(), mp, group, true, 0, id));
        return ctx.placement(MountKind.VIRTIO_BLK, id, 0, ctx.mount().readOnly(), rule, reason + "; emptydir_mode block-plain: sparse "
                + image + " of " + GuestPaths.humanBytes(size) + " (the host filesystem's size) attached as virtio-blk, ext4 made in the guest",
                mp, StorageScope.POD);
    }

    /**
     * Shares the mount's resolved source on {@code device}: pod-scoped when the source is a kubelet pod volume
     * directory ({@link MountContext#isPodVolume}), container-scoped otherwise.
     */
    Placement shareOn(MountContext ctx, String device, String rule, String reason) {
        Path real = ctx.realSource();
        boolean directory = facts.stat(real).map(FileStat::isDirectory).orElse(true);
        StorageScope scope = ctx.isPodVolume() ? StorageScope.POD : StorageScope.CONTAINER;
        String name = share(device, real, ctx.mount().readOnly(), directory, scope);
        String guestPath = GuestPaths.deviceMountPoint(device) + "/" + name;
        return ctx.placement(MountKind.VIRTIO_FS, device, 0, ctx.mount().readOnly(), rule, reason, guestPath, scope);
    }

    /** A decision with the guest OCI mount that goes with it. */
    record Placement(MountDecision decision, OciMount guestMount) {
    }
}
