package dev.podvisor.it.cri;

import java.util.Objects;

/**
 * A container's {@code volumeMounts} entry.
 *
 * @param volume        the pod volume's name
 * @param containerPath where it appears in the container
 * @param subPath       a path inside the volume ("" for the whole volume); kubelet bind-mounts it under
 *                      {@code <pod dir>/volume-subpaths/<volume>/<container>/<index>}
 * @param readOnly      read-only mount
 */
public record VolumeMount(String volume, String containerPath, String subPath, boolean readOnly) {

    /** Validates the fields. */
    public VolumeMount {
        Objects.requireNonNull(volume, "volume");
        Objects.requireNonNull(containerPath, "containerPath");
        Objects.requireNonNull(subPath, "subPath");
        if (subPath.startsWith("/") || subPath.contains("..")) {
            throw new IllegalArgumentException("volumeMount " + volume + ": subPath '" + subPath + "' must be relative, without ..");
        }
    }

    /** @return a read-write mount of the whole volume */
    public static VolumeMount of(String volume, String containerPath) {
        return new VolumeMount(volume, containerPath, "", false);
    }

    /** @return a read-write mount of a path inside the volume */
    public static VolumeMount subPath(String volume, String containerPath, String subPath) {
        return new VolumeMount(volume, containerPath, subPath, false);
    }

    /** @return this mount, read-only */
    public VolumeMount asReadOnly() {
        return new VolumeMount(volume, containerPath, subPath, true);
    }
}
