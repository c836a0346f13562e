package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FileStat;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rule 7: a bind whose source is a host block device node becomes a virtio-blk disk, read-only when the mount says
 * {@code ro} or the device is read-only (BLKROGET); it is never mounted on the host. The guest binds the device node
 * (fstype {@code bind}), as Kata Go does for a raw host block device (virtcontainers/kata_agent.go).
 */
final class HostBlockDeviceRule implements MountRule {

    @Override
    public String id() {
        return "host-block-device";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        if (!ctx.isHostBind()) {
            return Optional.empty();
        }
        Optional<Path> real = ctx.realSourceIfExists();
        if (real.isEmpty()) {
            return Optional.empty();
        }
        PlanBuilder plan = ctx.plan();
        Optional<FileStat> st = plan.facts.stat(real.get());
        if (st.isEmpty() || !st.get().isBlockDevice()) {
            return Optional.empty();
        }
        boolean blkRo = plan.facts.blockDeviceReadOnly(real.get());
        boolean readOnly = ctx.mount().readOnly() || blkRo;
        String id = plan.disk(real.get().toString(), readOnly, DiskAttachment.DiskType.VIRTIO_BLK);
        List<String> options = new ArrayList<>(List.of("bind"));
        if (readOnly) {
            options.add("ro");
        }
        String mp = GuestPaths.STORAGE + "/" + GuestPaths.base64Url(real.get().toString());
        plan.storage(new GuestStorage("blk", List.of(), "disk:" + id, "bind", options, mp, null, false, 0, id));
        String why = "source " + real.get() + " is block device " + st.get().rdevMajor() + ":" + st.get().rdevMinor()
                + "; attached as virtio-blk" + (readOnly ? ", read-only (" + (blkRo ? "BLKROGET says read-only" : "mount option ro") + ")" : "")
                + "; never mounted on the host";
        PlanBuilder.Placement p = ctx.placement(MountKind.VIRTIO_BLK, id, 0, id(), why, mp);
        if (readOnly && !ctx.mount().readOnly()) {
            MountDecision d = p.decision();
            List<String> guestOptions = new ArrayList<>(p.guestMount().options());
            guestOptions.add("ro");
            return Optional.of(new PlanBuilder.Placement(
                    new MountDecision(d.destination(), d.source(), d.kind(), d.device(), 0, true, d.rule(), d.reason(), d.guestPath()),
                    new dev.podvisor.storage.spec.OciMount(d.destination(), "bind", mp, guestOptions)));
        }
        return Optional.of(p);
    }
}
