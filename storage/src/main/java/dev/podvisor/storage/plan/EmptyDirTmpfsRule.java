package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * Rule 3: an emptyDir (or a subPath of one, traced through mountinfo; kata-containers#1728) whose host directory is a
 * tmpfs becomes a guest tmpfs of the host tmpfs's size (kubelet sizes it to min(sizeLimit, pod memory limit),
 * KEP-1967; kata-containers#2438), with {@code fsgid=} when the host directory's gid is not 0.
 */
final class EmptyDirTmpfsRule implements MountRule {

    @Override
    public String id() {
        return "emptydir-tmpfs";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        Optional<EmptyDirRef> ref = ctx.emptyDir().filter(r -> r.medium().equals("tmpfs"));
        if (ref.isEmpty()) {
            return Optional.empty();
        }
        EmptyDirRef r = ref.get();
        long size = ctx.plan().facts.statfs(r.dir()).totalBytes();
        String why = (r.isSubPath() ? "source " + ctx.mount().source() + " is a subPath of " : "source is ")
                + r.describe() + ", a tmpfs of " + GuestPaths.humanBytes(size) + "; guest tmpfs of the same size";
        return Optional.of(ctx.plan().guestTmpfs(ctx, r, size, id(), why));
    }
}
