package dev.podvisor.storage.plan;

import java.util.Optional;

/** One annotation may not send a container path to two devices. */
final class OneDeviceCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "one-device";
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        for (SpecialVolume other : ctx.volumes()) {
            if (other == volume) {
                return Optional.empty();
            }
            if (other.wellFormed() && other.normalizedPath().equals(volume.normalizedPath())
                    && !other.device().equals(volume.device())) {
                return Optional.of("container path '" + volume.path() + "' is sent to two devices, '"
                        + other.device() + "' and '" + volume.device() + "'");
            }
        }
        return Optional.empty();
    }
}
