package dev.podvisor.storage.plan;

/**
 * A container path that a container of the pod already sends to an extra virtio-fs device: what a later
 * container of the same pod must agree with (the pod-wide mapping of kata-containers#7380).
 *
 * @param containerId the container that sent it
 * @param device      the device it went to
 */
public record SpecialVolumeClaim(String containerId, String device) {
}
