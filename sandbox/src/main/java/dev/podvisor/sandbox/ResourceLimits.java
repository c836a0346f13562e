package dev.podvisor.sandbox;

import dev.podvisor.sandbox.config.PodvisorExtras;

/**
 * Bounded counts with named errors (issue 8, case 6): a pod spec may not make the shim start an unbounded number of
 * processes or mounts. Checked before anything is started or mounted, so a refusal leaves nothing behind. Kata has
 * no such limits; 200 extra virtio-fs devices meant 200 virtiofsd daemons and a create of more than 3 minutes.
 */
final class ResourceLimits {

    /** Where extra virtio-fs devices are declared, for the error. */
    static final String EXTRA_VIRTIOFS_SOURCES = "[hypervisor.clh] extra_virtiofs and annotation"
            + " io.katacontainers.config.hypervisor.extra_virtiofs";

    private ResourceLimits() {
    }

    /**
     * @param count  extra virtio-fs devices the sandbox's plan asks for
     * @param limits the {@code [podvisor]} settings
     * @throws IllegalArgumentException {@code too many extra virtio-fs devices: ...} naming both sources and the limit key
     */
    static void checkExtraVirtiofs(int count, PodvisorExtras limits) {
        if (count > limits.maxExtraVirtiofs()) {
            throw new IllegalArgumentException("too many extra virtio-fs devices: " + EXTRA_VIRTIOFS_SOURCES
                    + " declare " + count + ", at most " + limits.maxExtraVirtiofs()
                    + " are allowed ([podvisor] max_extra_virtiofs)");
        }
    }

    /**
     * @param containerId the container
     * @param count       mounts in its {@code config.json}
     * @param limits      the {@code [podvisor]} settings
     * @throws IllegalArgumentException {@code container <id>: too many mounts: ...} naming the limit key
     */
    static void checkMounts(String containerId, int count, PodvisorExtras limits) {
        if (count > limits.maxContainerMounts()) {
            throw new IllegalArgumentException("container " + containerId + ": too many mounts: config.json mounts has "
                    + count + ", at most " + limits.maxContainerMounts() + " are allowed ([podvisor] max_container_mounts)");
        }
    }
}
