package dev.podvisor.storage.plan;

import java.util.Optional;

/** A token's device must be one of the pod's extra virtio-fs devices ({@code extra_virtiofs}). */
final class KnownDeviceCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "known-device";
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        if (ctx.devices().contains(volume.device())) {
            return Optional.empty();
        }
        return Optional.of("unknown device '" + volume.device() + "' in '" + volume.entry()
                + "' (extra virtio-fs devices: " + ctx.devices() + ")");
    }
}
