package dev.podvisor.testbed.guest;

import java.nio.file.Path;

/**
 * Maps guest paths ({@code /run/kata-containers/...}) to host paths under the per-VM guest root
 * ({@code <vm-dir>/guest-root}, a tmpfs mounted in the emulator's own mount namespace).
 *
 * @param root the host directory that stands for the guest's {@code /}
 */
record GuestRoot(Path root) {

    /** Guest paths under this prefix are the guest's own files (mapped under the root); see kata-storage.md §0. */
    static final String KATA_PREFIX = "/run/kata-containers/";

    /**
     * The host path of {@code guestPath}.
     *
     * @throws IllegalArgumentException when {@code guestPath} is not absolute or climbs out with {@code ..}
     */
    Path host(String field, String guestPath) {
        if (guestPath == null || !guestPath.startsWith("/")) {
            throw new IllegalArgumentException(field + " '" + guestPath + "': not an absolute guest path");
        }
        Path relative = Path.of(guestPath.substring(1)).normalize();
        if (relative.startsWith("..")) {
            throw new IllegalArgumentException(field + " '" + guestPath + "': climbs out of the guest root");
        }
        return root.resolve(relative);
    }

    /** Whether {@code path} is one of the guest's own paths (under {@code /run/kata-containers/}). */
    static boolean isGuestPath(String path) {
        return path != null && (path.startsWith(KATA_PREFIX) || path.equals("/run/kata-containers"));
    }
}
