package dev.podvisor.storage.plan;

import java.util.List;
import java.util.Optional;

/**
 * One check of a {@code special_volumes} token (docs/virtio-fs.md "Errors"; kata-containers#7380, whose
 * discussion settled that a special volume matching no mount fails the start). The planner asks every check in
 * {@link #ORDER} about every token; the first problem fails the plan with a {@link PlanException} that names the
 * annotation and the token. Nothing has been done on the host at that point: the planner is pure.
 */
sealed interface SpecialVolumeCheck permits WellFormedCheck, KnownDeviceCheck, OneDeviceCheck, PodAgreementCheck,
        MatchedMountCheck, ServedByDeviceCheck {

    /** The checks, in the order their errors are reported. */
    List<SpecialVolumeCheck> ORDER = List.of(new WellFormedCheck(), new KnownDeviceCheck(), new OneDeviceCheck(),
            new PodAgreementCheck(), new MatchedMountCheck(), new ServedByDeviceCheck());

    /** When a check can run. */
    enum Stage {
        /** From the annotation, the devices, the pod and the spec: before any mount is decided. */
        BEFORE_MOUNTS,
        /** Needs the mount decisions. */
        AFTER_MOUNTS
    }

    /** A stable id, for tests and docs ({@code well-formed}, {@code matched-mount}, ...). */
    String id();

    /** When it runs. */
    default Stage stage() {
        return Stage.BEFORE_MOUNTS;
    }

    /**
     * What is wrong with {@code volume}, or empty. Only called for tokens every earlier check accepted.
     *
     * @return the problem, phrased to follow "annotation ...: token '...': "
     */
    Optional<String> problem(SpecialVolume volume, SpecialVolumeContext ctx);
}
