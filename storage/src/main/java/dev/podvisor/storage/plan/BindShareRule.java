package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FileStat;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Rule 9: any other bind (hostPath, CSI filesystem PV, secret, configmap, projected, {@code /etc/hosts}...) is shared
 * by the default virtio-fs device: one host bind per source (and mode) per sandbox, ref-counted, read-only enforced
 * on the host too. Like Kata runtime-rs share_fs_volume.rs, a destination under {@code /dev} whose source is not a
 * regular file is left to the agent (rule 10).
 */
final class BindShareRule implements MountRule {

    @Override
    public String id() {
        return "bind-share";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        if (!ctx.isHostBind()) {
            return Optional.empty();
        }
        String dest = ctx.destination();
        if (dest.equals("/dev") || dest.startsWith("/dev/")) {
            boolean regular = ctx.realSourceIfExists().flatMap(ctx.plan().facts::stat).map(FileStat::isRegularFile).orElse(false);
            if (!regular) {
                return Optional.empty();
            }
        }
        Path real = ctx.realSource();
        String what = real.toString().equals(Path.of(ctx.mount().source()).normalize().toString())
                ? "source " + real : "source " + ctx.mount().source() + " resolves to " + real;
        return Optional.of(ctx.plan().shareOn(ctx, GuestPaths.KATA_SHARED, id(), what + " is a host path; shared by virtio-fs"
                + (ctx.mount().readOnly() ? " through a read-only host bind" : "")));
    }
}
