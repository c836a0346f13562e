package dev.podvisor.it;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A guest that boots (takes the VMM's control connection) but whose agent never listens on vsock: what a VM
 * with a broken agent looks like from the host. Started by the cloud-hypervisor stand-in through
 * {@code PODVISOR_TESTBED_GUEST_CMD}; exits when the VMM closes the control connection.
 */
public final class SilentGuest {

    private SilentGuest() {
    }

    public static void main(String[] args) throws Exception {
        Path control = null;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("--control")) {
                control = Path.of(args[i + 1]);
            }
        }
        if (control == null) {
            throw new IllegalArgumentException("--control: missing");
        }
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(control));
            try (SocketChannel vmm = server.accept()) {
                ByteBuffer buffer = ByteBuffer.allocate(4096);
                while (vmm.read(buffer.clear()) >= 0) {
                    // read the VMM's events and answer none of them on vsock
                }
            }
        } finally {
            Files.deleteIfExists(control);
        }
    }
}
