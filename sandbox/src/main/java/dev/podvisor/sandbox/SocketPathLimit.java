package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.VmConfigs;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * The unix sockets a sandbox binds under {@code <state_dir>/<sandbox id>/} must fit {@code sockaddr_un.sun_path}:
 * 108 bytes with its terminating NUL, so at most {@value #MAX_BYTES} bytes of path (Linux unix(7)). CRI sandbox ids
 * are 64 characters, so a long {@code state_dir} or extra virtio-fs device name overflows it, and the VMM or a
 * virtiofsd would fail to bind with a less helpful message after other processes had started. Checked before
 * anything is created.
 */
final class SocketPathLimit {
    /** Longest path a unix socket address holds, in bytes. */
    static final int MAX_BYTES = 107;

    private SocketPathLimit() {
    }

    /**
     * @param stateDir     {@code [podvisor] state_dir}, named in the error
     * @param vmDir        {@code <state_dir>/<sandbox id>}
     * @param extraDevices tags of the configured extra virtio-fs devices
     * @throws IllegalArgumentException {@code [podvisor] state_dir '<dir>': the socket path '<path>' is N bytes, …}
     *                                  or {@code [hypervisor.clh] extra_virtiofs device '<tag>': …} for the first
     *                                  socket path that does not fit
     */
    static void check(Path stateDir, Path vmDir, List<String> extraDevices) {
        for (Path socket : List.of(vmDir.resolve(VmConfigs.API_SOCKET), vmDir.resolve(VmConfigs.VSOCK_SOCKET),
                VmConfigs.virtiofsdSocket(vmDir, VmConfigs.KATA_SHARED_TAG))) {
            String error = tooLong(socket);
            if (error != null) {
                throw new IllegalArgumentException("[podvisor] state_dir '" + stateDir + "': " + error
                        + "; choose a shorter state_dir (the default /run/podvisor fits 64-character sandbox ids)");
            }
        }
        for (String tag : extraDevices) {
            String error = tooLong(VmConfigs.virtiofsdSocket(vmDir, tag));
            if (error != null) {
                throw new IllegalArgumentException("[hypervisor.clh] extra_virtiofs device '" + tag + "': " + error
                        + "; choose a shorter device name or state_dir");
            }
        }
    }

    /**
     * @param socket a socket path
     * @return {@code the socket path '<path>' is N bytes, more than the 107 a unix socket address holds}, or null
     *         when it fits
     */
    static String tooLong(Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        return bytes <= MAX_BYTES ? null : "the socket path '" + socket + "' is " + bytes + " bytes, more than the "
                + MAX_BYTES + " a unix socket address holds";
    }
}
