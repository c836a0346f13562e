package dev.podvisor.storage.plan;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** Guest and share path conventions (Kata constants, see docs/architecture.md "Paths"). */
public final class GuestPaths {

    /** The default virtio-fs device tag. */
    public static final String KATA_SHARED = "kataShared";
    /** Guest mount point of the default virtio-fs device. */
    public static final String SHARED_CONTAINERS = "/run/kata-containers/shared/containers";
    /** Guest parent of extra virtio-fs devices' mount points. */
    public static final String SHARED_ROOT = "/run/kata-containers/shared";
    /** Guest sandbox-wide shm. */
    public static final String SHM = "/run/kata-containers/sandbox/shm";
    /** Guest ephemeral (tmpfs, hugetlbfs) volumes. */
    public static final String EPHEMERAL = "/run/kata-containers/sandbox/ephemeral";
    /** Guest block storage mount points. */
    public static final String STORAGE = "/run/kata-containers/sandbox/storage";
    /** Default sandbox shm size when the host tells nothing: 64 MiB (Kata DEFAULT_SHM_SIZE). */
    public static final long DEFAULT_SHM_BYTES = 64L * 1024 * 1024;

    private GuestPaths() {
    }

    /** The guest directory where virtio-fs device {@code device} is mounted. */
    public static String deviceMountPoint(String device) {
        return device.equals(KATA_SHARED) ? SHARED_CONTAINERS : SHARED_ROOT + "/" + device;
    }

    /** URL-safe base64 with padding (Go {@code base64.URLEncoding}, Rust {@code URL_SAFE}). */
    public static String base64Url(String s) {
        return Base64.getUrlEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Renders bytes as {@code N GiB}/{@code N MiB}/{@code N KiB} when exact, else {@code N bytes}. */
    public static String humanBytes(long bytes) {
        if (bytes > 0 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes > 0 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes > 0 && bytes % 1024 == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " bytes";
    }
}
