package dev.podvisor.testbed.ch;

import dev.podvisor.testbed.log.TestbedLog;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The virtio-fs backends' connections: the stand-in connects to the virtiofsd socket of each {@code fs}
 * device (as CH's vhost-user frontend does) and asks the testbed virtiofsd for its shared directory
 * ({@code SHARED-DIR\n}, answered by one line). Closing the connection is how the backend learns the device
 * went away (the real virtiofsd exits then).
 */
final class FsBackends {
    private FsBackends() {
    }

    /**
     * One connected backend.
     *
     * @param tag       the virtio-fs tag
     * @param socket    the vhost-user socket path
     * @param sharedDir the directory the backend serves
     * @param channel   the open connection
     */
    record FsBackend(String tag, String socket, String sharedDir, SocketChannel channel) {
        /** Drops the connection (the backend exits). */
        void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
    }

    /**
     * Connects to the backend of one {@code FsConfig}, retrying until {@code timeout}.
     *
     * @param fs      the FsConfig ({@code tag}, {@code socket})
     * @param what    the outer error message of the request
     * @param timeout how long to retry
     * @param log     the VM's log ({@code vhost-user-connected})
     * @return the connected backend
     * @throws ApiError 500 "Cannot create virtio-fs device" when no backend answers in time
     */
    static FsBackend connect(com.fasterxml.jackson.databind.JsonNode fs, String what, Duration timeout, TestbedLog log)
            throws ApiError {
        String socket = fs.get("socket").asText();
        String tag = fs.get("tag").asText();
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline || last == null) {
            SocketChannel c = null;
            try {
                c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer q = ByteBuffer.wrap("SHARED-DIR\n".getBytes(StandardCharsets.US_ASCII));
                while (q.hasRemaining()) {
                    c.write(q);
                }
                String dir = readLine(c);
                if (dir == null) {
                    throw new IOException("virtiofsd closed the connection without answering SHARED-DIR");
                }
                log.log("ch", "vhost-user-connected", Map.of("tag", tag, "socket", socket, "sharedDir", dir));
                return new FsBackend(tag, socket, dir, c);
            } catch (IOException e) {
                last = e;
                if (c != null) {
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // retry
                    }
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw ApiError.of(500, "Error from API", what, "Cannot create virtio-fs device",
                "Failed connecting the backend " + socket + " after " + timeout.toMillis() + " ms: "
                        + (last == null ? "interrupted" : last.getMessage()));
    }

    private static String readLine(SocketChannel c) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (c.read(one) < 0) {
                return null;
            }
            byte b = one.get(0);
            if (b == '\n') {
                return sb.toString();
            }
            sb.append((char) (b & 0xff));
            if (sb.length() > 4096) {
                throw new IOException("SHARED-DIR answer too long");
            }
        }
    }
}
