package dev.podvisor.storage.plan;

import java.util.Optional;

/** A token needs a device name and an absolute container path without {@code ..}. */
final class WellFormedCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "well-formed";
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        if (volume.wellFormed()) {
            return Optional.empty();
        }
        String why = volume.device().isEmpty() ? "no device name"
                : volume.path().isEmpty() ? "no container path"
                : "container path '" + volume.path() + "' is not an absolute path without '..'";
        return Optional.of("malformed entry '" + volume.entry() + "': " + why
                + " (want <device>:<container path>[,<container path>...])");
    }
}
