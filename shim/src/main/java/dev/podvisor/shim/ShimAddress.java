package dev.podvisor.shim;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Where a shim daemon listens. containerd 1.6 (runtime/v2/shim/util_unix.go {@code SocketAddress}) and 2.x
 * ({@code CreateSocketAddress}) both use {@code unix:///run/containerd/s/<sha256(join(address, namespace, id))>},
 * lower-case hex; containerd only ever uses what {@code start} prints, and {@code delete} recomputes it.
 */
public final class ShimAddress {

    /** containerd's directory for shim sockets. */
    public static final Path SOCKET_DIR = Path.of("/run/containerd/s");

    private ShimAddress() {
    }

    /**
     * The socket path for a shim serving {@code id} in {@code namespace}, for the containerd at
     * {@code containerdAddress}.
     */
    public static Path socketPath(String containerdAddress, String namespace, String id) {
        String joined = Path.of(containerdAddress, namespace, id).toString();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(joined.getBytes(StandardCharsets.UTF_8));
            return SOCKET_DIR.resolve(HexFormat.of().formatHex(digest));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }

    /** The address string {@code start} prints: {@code unix://} + the absolute path (a path without it would mean an abstract socket). */
    public static String uri(Path socketPath) {
        return "unix://" + socketPath;
    }

    /** The socket path inside an address printed by {@link #uri}. */
    public static Path pathOf(String uri) {
        if (!uri.startsWith("unix://")) {
            throw new IllegalArgumentException("shim address '" + uri + "': not a unix:// address");
        }
        return Path.of(uri.substring("unix://".length()));
    }
}
