package dev.podvisor.storage.plan;

/**
 * One token of {@code io.katacontainers.config.runtime.special_volumes}: a container path sent to an extra
 * virtio-fs device. The annotation is {@code <device>:<path>[,<path>...][;<device>:...]} (kata-containers#7380);
 * each path of an entry is one token. Parsed leniently: whether a token makes sense is for the
 * {@link SpecialVolumeCheck}s to say.
 *
 * @param entry  the whole {@code ;}-separated entry the token came from, trimmed, as the user wrote it
 * @param device the device name before the first {@code ':'}, trimmed; empty when the entry has no {@code ':'}
 * @param path   the container path, trimmed; empty when none was given
 */
record SpecialVolume(String entry, String device, String path) {

    /** How errors name it: {@code <device>:<path>}, or the entry itself when it has no device. */
    String token() {
        return device.isEmpty() ? entry : device + ":" + path;
    }

    /** The path normalised ({@code /a//b/} is {@code /a/b}); only meaningful for a well-formed token. */
    String normalizedPath() {
        return java.nio.file.Path.of(path).normalize().toString();
    }

    /** Whether it is a device name and an absolute container path without {@code ..}. */
    boolean wellFormed() {
        return !device.isEmpty() && path.startsWith("/") && !PodStorageConfig.hasDotDot(path);
    }
}
