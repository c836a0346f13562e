package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * The mount a special volume names must be one a virtio-fs device can serve, a host bind: an earlier rule of
 * the decision table (a memory emptyDir, a direct volume, a block device...) or a non-bind mount would otherwise
 * take it silently away from the device the user asked for.
 */
final class ServedByDeviceCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "served-by-device";
    }

    @Override
    public Stage stage() {
        return Stage.AFTER_MOUNTS;
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        for (MountDecision d : ctx.decisions()) {
            if (d.destination().equals(volume.normalizedPath()) && !d.rule().equals("special-volume")) {
                return Optional.of("container special volume '" + volume.path() + "' (device '" + volume.device()
                        + "') cannot be served by a virtio-fs device: rule '" + d.rule() + "' decided it ("
                        + d.kind().wireName() + "); only a host bind mount can be");
            }
        }
        return Optional.empty();
    }
}
