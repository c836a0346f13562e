package dev.podvisor.storage.plan;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.host.FsStat;
import dev.podvisor.storage.host.RecordedHostFacts;
import dev.podvisor.storage.spec.OciMount;
import dev.podvisor.storage.spec.OciSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A recorded kubelet node: / on ext4, /var on xfs, kubelet volumes of pod uid1, a containerd sandbox shm. */
public final class Fixture {

    public static final String POD = "/var/lib/kubelet/pods/uid1";
    public static final String EMPTY = POD + "/volumes/kubernetes.io~empty-dir";
    public static final String CACHE = EMPTY + "/cache";
    public static final String SCRATCH = EMPTY + "/scratch";
    public static final String HUGE = EMPTY + "/huge";
    public static final String CACHE_SUBPATH = POD + "/volume-subpaths/cache/app/0";
    public static final String SCRATCH_SUBPATH = POD + "/volume-subpaths/scratch/app/1";
    public static final String SHM = "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/sb1/shm";
    public static final String HOSTS = "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/sb1/hosts";
    public static final String DATA = "/srv/data";
    public static final String CSI = POD + "/volumes/kubernetes.io~csi/pv1/mount";
    public static final String BUNDLE = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1";
    public static final long MIB = 1L << 20;

    public static final String[] MOUNTINFO = {
        "1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
        "20 1 8:2 / /var rw,relatime shared:2 - xfs /dev/sda2 rw,attr2,inode64",
        "30 1 0:25 / /run rw,nosuid,nodev shared:3 - tmpfs tmpfs rw,size=800000k,mode=755",
        "100 20 0:50 / " + CACHE + " rw,relatime shared:10 - tmpfs tmpfs rw,size=65536k",
        "101 20 0:50 /sub " + CACHE_SUBPATH + " rw,relatime shared:10 - tmpfs tmpfs rw,size=65536k",
        "102 20 0:51 / " + HUGE + " rw,relatime - hugetlbfs nodev rw,pagesize=2M",
        "103 30 0:60 / " + SHM + " rw,nosuid,nodev,noexec - tmpfs shm rw,size=131072k",
        "104 20 8:2 /lib/kubelet/pods/uid1/volumes/kubernetes.io~empty-dir/scratch/logs " + SCRATCH_SUBPATH + " rw - xfs /dev/sda2 rw",
    };

    public static RecordedHostFacts.Builder node() {
        return RecordedHostFacts.builder()
                .mountInfo(MOUNTINFO)
                .directory(CACHE, 2000, 0, 50)
                .directory(SCRATCH, 0, 8, 2)
                .directory(SCRATCH + "/logs", 0, 8, 2)
                .directory(HUGE, 0, 0, 51)
                .regularFile(HOSTS, 120, 8, 2)
                .directory(DATA, 0, 8, 1)
                .directory(CSI, 0, 8, 2)
                .directory(BUNDLE + "/rootfs", 0, 0, 25)
                .statfs("/", new FsStat(0xEF53, 4096, 1 << 20, 1 << 19))
                .statfs("/var", new FsStat(0x58465342L, 4096, 25L << 20, 20L << 20))
                .tmpfs("/run", 800000L * 1024)
                .tmpfs(CACHE, 64 * MIB)
                .statfs(HUGE, new FsStat(FsStat.HUGETLBFS_MAGIC, 2 * MIB, 0, 0))
                .tmpfs(SHM, 128 * MIB);
    }

    public static OciMount bind(String destination, String source, String... extra) {
        List<String> options = new ArrayList<>(List.of("rbind", "rprivate"));
        options.addAll(List.of(extra));
        return new OciMount(destination, "bind", source, options);
    }

    public static OciSpec spec(OciMount... mounts) {
        return spec(List.of(mounts), 0);
    }

    public static OciSpec spec(List<OciMount> mounts, long hugepage2MLimit) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode root = om.createObjectNode();
        root.put("ociVersion", "1.2.0");
        root.putObject("root").put("path", "rootfs");
        ArrayNode ms = root.putArray("mounts");
        for (OciMount m : mounts) {
            ObjectNode o = ms.addObject();
            o.put("destination", m.destination());
            o.put("type", m.type());
            o.put("source", m.source());
            ArrayNode opts = o.putArray("options");
            m.options().forEach(opts::add);
        }
        if (hugepage2MLimit > 0) {
            ObjectNode h = root.putObject("linux").putObject("resources").putArray("hugepageLimits").addObject();
            h.put("pageSize", "2MB");
            h.put("limit", hugepage2MLimit);
        }
        return OciSpec.of(root);
    }

    public static PlanInput input(OciSpec spec) {
        return input(PlannerSettings.defaults(), Map.of(), spec, List.of(new RootfsMount("overlay", "overlay", List.of("lowerdir=/a:/b", "upperdir=/u", "workdir=/w"))));
    }

    public static PlanInput input(PlannerSettings settings, Map<String, String> annotations, OciSpec spec, List<RootfsMount> rootfs) {
        return new PlanInput(settings, "sb1", "c1", false, new LinkedHashMap<>(annotations), spec, rootfs, Path.of(BUNDLE));
    }

    public static StoragePlan plan(RecordedHostFacts facts, OciMount... mounts) {
        return StoragePlanner.plan(input(spec(mounts)), facts);
    }

    public static MountDecision only(StoragePlan plan) {
        if (plan.mounts().size() != 1) {
            throw new AssertionError("expected one mount decision: " + plan.mounts());
        }
        return plan.mounts().getFirst();
    }

    private Fixture() {
    }
}
