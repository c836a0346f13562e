package dev.podvisor.storage.plan;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the {@link SpecialVolumeCheck}s see.
 *
 * @param volumes      every token of the container's {@code special_volumes} annotation, in order
 * @param devices      the extra virtio-fs device names the pod declares
 * @param role         what the container is to its pod
 * @param containerId  the container being planned
 * @param destinations the container's mount destinations, normalised
 * @param podClaims    container path to the device another container of the pod sends it to
 * @param decisions    the mount decisions; empty before the mounts are decided
 */
record SpecialVolumeContext(List<SpecialVolume> volumes, Set<String> devices, PodRole role, String containerId,
                            List<String> destinations, Map<String, SpecialVolumeClaim> podClaims,
                            List<MountDecision> decisions) {

    /** The same context once the mounts are decided. */
    SpecialVolumeContext withDecisions(List<MountDecision> decided) {
        return new SpecialVolumeContext(volumes, devices, role, containerId, destinations, podClaims, decided);
    }
}
