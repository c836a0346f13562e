package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * Two containers of one pod may not send the same container path to different devices: the mapping is the
 * pod's (kata-containers#7380 puts {@code special_volumes} in the pod's annotations).
 */
final class PodAgreementCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "pod-agreement";
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        SpecialVolumeClaim claim = ctx.podClaims().get(volume.normalizedPath());
        if (claim == null || claim.device().equals(volume.device()) || claim.containerId().equals(ctx.containerId())) {
            return Optional.empty();
        }
        return Optional.of("container path '" + volume.path() + "' is sent to device '" + volume.device()
                + "', but container " + claim.containerId() + " of the same pod sends it to device '" + claim.device() + "'");
    }
}
