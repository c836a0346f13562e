package dev.podvisor.storage.plan;

import java.util.Optional;

/**
 * A special volume must name a mount of the container: a typo ({@code /my-v0lumes/f00} for
 * {@code /my-volume/foo}) would otherwise send the mount silently to the default device. The wording is the one
 * kata-containers#7380 settled on. A pod's sandbox container is not checked: it receives the pod's annotations
 * but none of the workload mounts.
 */
final class MatchedMountCheck implements SpecialVolumeCheck {

    @Override
    public String id() {
        return "matched-mount";
    }

    @Override
    public Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx) {
        if (ctx.role() == PodRole.POD_SANDBOX || ctx.destinations().contains(volume.normalizedPath())) {
            return Optional.empty();
        }
        return Optional.of("No virtiofs device was found for container special volume '" + volume.path()
                + "' (device '" + volume.device() + "'): it matches no mount of container " + ctx.containerId()
                + " (mount destinations: " + ctx.destinations() + ")");
    }
}
