package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * Rule 2: a volume declared in the pod annotation {@code io.podvisor.volumes} is placed as declared. A declaration
 * that contradicts the host (declared Memory on a host directory that is not a tmpfs, ...) is an error, never a guess.
 */
final class DeclaredVolumeRule implements MountRule {

    @Override
    public String id() {
        return "declared-volume";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        if (ctx.plan().pod.declaredVolumes().isEmpty()) {
            return Optional.empty();
        }
        Optional<String> name = ctx.kubeletVolumeName();
        if (name.isEmpty()) {
            return Optional.empty();
        }
        DeclaredVolume decl = ctx.plan().pod.declaredVolumes().get(name.get());
        if (decl == null) {
            return Optional.empty();
        }
        String at = "annotation " + DeclaredVolume.ANNOTATION + " volume '" + decl.name() + "'";
        EmptyDirRef ref = ctx.emptyDir().orElseThrow(() -> new PlanException(at + ": mount " + ctx.destination()
                + " source " + ctx.mount().source() + " cannot be traced to the emptyDir's directory through mountinfo"));
        PlanBuilder plan = ctx.plan();
        String host = ref.dirMount() == null ? "not a mount point (on the node's disk)" : "a " + ref.dirMount().fsType() + " mount";
        switch (decl.medium()) {
            case MEMORY -> {
                if (!ref.medium().equals("tmpfs")) {
                    throw new PlanException(at + ": declared medium Memory, but host directory " + ref.dir() + " is " + host + ", not a tmpfs");
                }
                long hostSize = plan.facts.statfs(ref.dir()).totalBytes();
                long size = decl.sizeLimitBytes() > 0 ? decl.sizeLimitBytes() : hostSize;
                String why = "declared Memory" + (decl.sizeLimitBytes() > 0 ? " with sizeLimit " + GuestPaths.humanBytes(size) : "")
                        + " by " + DeclaredVolume.ANNOTATION + "; " + ref.describe() + " is a tmpfs of " + GuestPaths.humanBytes(hostSize)
                        + "; guest tmpfs of " + GuestPaths.humanBytes(size);
                return Optional.of(plan.guestTmpfs(ctx, ref, size, id(), why));
            }
            case HUGEPAGES -> {
                if (!ref.medium().equals("hugetlbfs")) {
                    throw new PlanException(at + ": declared medium HugePages, but host directory " + ref.dir() + " is " + host + ", not a hugetlbfs");
                }
                long hostPage = EmptyDirHugetlbfsRule.hostPageSize(ref);
                if (decl.hugePageBytes() > 0 && decl.hugePageBytes() != hostPage) {
                    throw new PlanException(at + ": declared page size " + GuestPaths.humanBytes(decl.hugePageBytes())
                            + ", but host hugetlbfs at " + ref.dir() + " has pagesize " + GuestPaths.humanBytes(hostPage));
                }
                long size = decl.sizeLimitBytes() > 0 ? decl.sizeLimitBytes() : EmptyDirHugetlbfsRule.ociLimit(ctx, ref, hostPage);
                String why = "declared HugePages by " + DeclaredVolume.ANNOTATION + "; " + ref.describe() + " is a hugetlbfs with pagesize "
                        + GuestPaths.humanBytes(hostPage) + "; guest hugetlbfs of " + GuestPaths.humanBytes(size);
                return Optional.of(plan.guestHugetlbfs(ctx, ref, hostPage, size, id(), why));
            }
            case DISK -> {
                if (!ref.medium().equals("disk")) {
                    throw new PlanException(at + ": declared medium disk, but host directory " + ref.dir() + " is " + host);
                }
                return Optional.of(plan.diskEmptyDir(ctx, ref, id(), "declared disk by " + DeclaredVolume.ANNOTATION + "; " + ref.describe()
                        + " is on the node's disk"));
            }
            default -> throw new IllegalStateException(decl.medium().toString());
        }
    }
}
