package dev.podvisor.storage.plan;

import dev.podvisor.storage.spec.HugepageLimit;
import java.util.Optional;

/**
 * Rule 4: an emptyDir on hugetlbfs becomes a guest hugetlbfs with {@code pagesize=} from the host mount and
 * {@code size=} from the OCI {@code linux.resources.hugepageLimits} entry of that page size (Kata hugepage.rs).
 */
final class EmptyDirHugetlbfsRule implements MountRule {

    @Override
    public String id() {
        return "emptydir-hugetlbfs";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        Optional<EmptyDirRef> ref = ctx.emptyDir().filter(r -> r.medium().equals("hugetlbfs"));
        if (ref.isEmpty()) {
            return Optional.empty();
        }
        EmptyDirRef r = ref.get();
        long page = hostPageSize(r);
        long size = ociLimit(ctx, r, page);
        String why = "source is " + r.describe() + ", a hugetlbfs with pagesize " + GuestPaths.humanBytes(page)
                + "; guest hugetlbfs sized by the OCI hugepage limit, " + GuestPaths.humanBytes(size);
        return Optional.of(ctx.plan().guestHugetlbfs(ctx, r, page, size, id(), why));
    }

    /** The {@code pagesize=} of the host hugetlbfs in bytes (2 MiB when the mount does not say, the x86 default). */
    static long hostPageSize(EmptyDirRef r) {
        for (String o : r.dirMount().superOptions()) {
            if (o.startsWith("pagesize=")) {
                return Quantity.parseKernelSize(o.substring("pagesize=".length()));
            }
        }
        for (String o : r.dirMount().mountOptions()) {
            if (o.startsWith("pagesize=")) {
                return Quantity.parseKernelSize(o.substring("pagesize=".length()));
            }
        }
        return 2L << 20;
    }

    /** The OCI hugepage limit for {@code pageBytes}. */
    static long ociLimit(MountContext ctx, EmptyDirRef r, long pageBytes) {
        for (HugepageLimit l : ctx.plan().input.spec().hugepageLimits()) {
            if (l.pageSizeBytes() == pageBytes) {
                return l.limitBytes();
            }
        }
        throw new PlanException("mount " + ctx.destination() + ": " + r.describe() + " is a hugetlbfs with pagesize "
                + GuestPaths.humanBytes(pageBytes) + ", but config.json 'linux.resources.hugepageLimits' has no limit for that page size");
    }
}
