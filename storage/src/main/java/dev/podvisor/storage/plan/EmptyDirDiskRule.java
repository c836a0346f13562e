package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * Rule 5: an emptyDir on the node's disk is shared by virtio-fs ({@code emptydir_mode = "shared-fs"}) or served from a
 * sparse {@code disk.img} over virtio-blk ({@code block-plain}); never guest RAM (kata-containers#12203, #1341).
 */
final class EmptyDirDiskRule implements MountRule {

    @Override
    public String id() {
        return "emptydir-disk";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        Optional<EmptyDirRef> ref = ctx.emptyDir().filter(r -> r.medium().equals("disk"));
        if (ref.isEmpty()) {
            return Optional.empty();
        }
        EmptyDirRef r = ref.get();
        String holder = ctx.plan().table.containing(r.dir()).map(m -> m.fsType() + " at " + m.mountPoint()).orElse("?");
        String why = (r.isSubPath() ? "source " + ctx.mount().source() + " is a subPath of " : "source is ")
                + r.describe() + ", on the node's disk (" + holder + ")";
        return Optional.of(ctx.plan().diskEmptyDir(ctx, r, id(), why));
    }
}
