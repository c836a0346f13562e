package dev.podvisor.sandbox.metrics;

/**
 * The guest side of a pod's direct volumes, for the management API's {@code /direct-volume/stats} and
 * {@code /direct-volume/resize} (Kata: src/runtime/pkg/containerd-shim-v2/shim_management.go, which calls the
 * agent's GetVolumeStats and ResizeVolume). A volume is named by its {@code device} as recorded in its
 * mountInfo.json, which is what {@code kata-runtime direct-volume stats|resize} send.
 */
public interface GuestVolumes {

    /** For a sandbox whose volumes cannot be reached: every call throws {@link IllegalStateException}. */
    GuestVolumes NONE = new GuestVolumes() {
        @Override
        public String statsJson(String device) {
            throw new IllegalStateException("direct volumes are not reachable in this sandbox");
        }

        @Override
        public void resize(String device, long sizeBytes) {
            throw new IllegalStateException("direct volumes are not reachable in this sandbox");
        }
    };

    /**
     * The guest's figures for the filesystem of the direct volume backed by {@code device}, as JSON like Kata's
     * (the agent's VolumeStatsResponse: {@code {"usage":[{"available":N,"total":N,"used":N,"unit":1},...],
     * "volume_condition":{...}}}, units 1 = bytes, 2 = inodes).
     *
     * @throws IllegalArgumentException when no container of the pod uses that device as a direct volume
     * @throws RuntimeException         when the agent refuses (its message)
     */
    String statsJson(String device);

    /**
     * Grows the filesystem of the direct volume backed by {@code device} to {@code sizeBytes}.
     *
     * @throws IllegalArgumentException when no container of the pod uses that device as a direct volume
     * @throws RuntimeException         when the agent refuses (its message)
     */
    void resize(String device, long sizeBytes);
}
