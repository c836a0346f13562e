package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FsStat;
import dev.podvisor.storage.spec.OciMount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Rule 1: destination {@code /dev/shm} becomes the sandbox-wide guest tmpfs, sized from the host bind source when it
 * is a tmpfs (statfs total bytes), else from a tmpfs {@code size=} option, else 64 MiB (Kata runtime-rs
 * manager.rs {@code get_shm_size}). An emptyDir mounted at {@code /dev/shm} is left to the emptyDir rules.
 */
final class DevShmRule implements MountRule {

    @Override
    public String id() {
        return "dev-shm";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        if (!ctx.destination().equals("/dev/shm")) {
            return Optional.empty();
        }
        if (ctx.emptyDir().isPresent()) {
            // "emptyDir: {medium: Memory, sizeLimit: 1Gi}" at /dev/shm is the usual way to get a bigger shm: it keeps
            // its own size and its sharing between the pod's containers (rules 2-5), as in Kata, where the emptyDir
            // is typed ephemeral before the shm rule runs.
            return Optional.empty();
        }
        OciMount m = ctx.mount();
        PlanBuilder plan = ctx.plan();
        long size = GuestPaths.DEFAULT_SHM_BYTES;
        String why;
        if (m.isBind() && m.source().startsWith("/") && !Path.of(m.source()).normalize().toString().equals("/dev/shm")) {
            Optional<Path> real = ctx.realSourceIfExists();
            if (real.isEmpty()) {
                why = "source " + m.source() + " does not exist; default size " + GuestPaths.humanBytes(size);
            } else {
                FsStat fs = plan.facts.statfs(real.get());
                if (fs.type() == FsStat.TMPFS_MAGIC && fs.totalBytes() > 0) {
                    size = fs.totalBytes();
                    why = "source " + m.source() + " is a tmpfs of " + GuestPaths.humanBytes(size) + "; guest tmpfs of the same size";
                } else {
                    why = "source " + m.source() + " is not a tmpfs; default size " + GuestPaths.humanBytes(size);
                }
            }
        } else if (m.type().equals("tmpfs")) {
            Optional<String> opt = m.options().stream().filter(o -> o.startsWith("size=")).findFirst();
            if (opt.isPresent()) {
                try {
                    size = Quantity.parseKernelSize(opt.get().substring(5));
                } catch (RuntimeException e) {
                    throw new PlanException("mount /dev/shm option '" + opt.get() + "': not a size", e);
                }
                why = "tmpfs with " + opt.get() + "; guest tmpfs of " + GuestPaths.humanBytes(size);
            } else {
                why = "tmpfs without size=; default size " + GuestPaths.humanBytes(size);
            }
        } else {
            why = "no host tmpfs to size it from; default size " + GuestPaths.humanBytes(size);
        }
        plan.shmBytes = size;
        List<String> options = new ArrayList<>(List.of("rbind"));
        if (m.readOnly()) {
            options.add("ro");
        }
        MountDecision d = new MountDecision(ctx.destination(), m.source(), MountKind.GUEST_TMPFS, "", size, m.readOnly(), id(),
                why + "; sandbox-wide guest tmpfs at " + GuestPaths.SHM + " (noexec,nosuid,nodev,mode=1777)", GuestPaths.SHM,
                StorageScope.POD);
        return Optional.of(new PlanBuilder.Placement(d, new OciMount(m.destination(), "bind", GuestPaths.SHM, options)));
    }
}
