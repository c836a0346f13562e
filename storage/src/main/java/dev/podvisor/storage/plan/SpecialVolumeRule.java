package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * Rule 8: a destination listed in {@code io.katacontainers.config.runtime.special_volumes} is shared through that
 * extra virtio-fs device (the multi-virtio-fs design of kata-containers#7380).
 */
final class SpecialVolumeRule implements MountRule {

    @Override
    public String id() {
        return "special-volume";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        String device = ctx.plan().pod.specialVolumes().byPath().get(ctx.destination());
        if (device == null || !ctx.isHostBind()) {
            return Optional.empty();
        }
        return Optional.of(ctx.plan().shareOn(ctx, device, id(), "destination listed in " + PodStorageConfig.SPECIAL_VOLUMES
                + " for virtio-fs device '" + device + "' (virtiofsd " + String.join(" ", ctx.plan().pod.devices().get(device)) + ")"
                + (ctx.mount().readOnly() ? "; read-only bind on the host" : "")));
    }
}
