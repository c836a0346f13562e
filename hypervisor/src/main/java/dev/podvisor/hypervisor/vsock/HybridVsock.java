package dev.podvisor.hypervisor.vsock;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Dials a guest vsock port through Cloud Hypervisor's hybrid vsock: connect to the device's unix socket
 * ({@code VmConfig.vsock.socket}), write {@code CONNECT <port>\n}, read one answer line; {@code OK <host port>\n}
 * means the stream that follows is the guest connection. Cloud Hypervisor closes (or resets) the connection
 * while nothing in the guest listens on the port, so the dialer retries.
 *
 * <p>Follows Cloud Hypervisor {@code virtio-devices/src/vsock/unix/muxer.rs} and Kata (Go {@code kata_agent.go}
 * / runtime-rs {@code hybrid_vsock.rs}): the answer is accepted when it starts with {@code OK}; attempts are
 * 10 ms apart; each attempt's handshake read is bounded (10 s, as Kata Go, or what is left of the total).
 */
public final class HybridVsock {
    /** The kata-agent's ttrpc port ({@code DEFAULT_AGENT_VSOCK_PORT}). */
    public static final int AGENT_PORT = 1024;
    /** Pause between attempts, in ms. */
    public static final long RETRY_INTERVAL_MS = 10;
    /** Bound of one attempt's handshake, in ms. */
    public static final long HANDSHAKE_TIMEOUT_MS = 10_000;
    private static final int MAX_LINE = 128;

    private HybridVsock() {
    }

    /**
     * Connects to guest vsock {@code port} through the hybrid vsock socket {@code udsPath}.
     *
     * <p>The handshake reads byte by byte and never past the answer's newline, so the returned channel holds
     * every byte the guest sent after it (the ttrpc stream).
     *
     * @param udsPath      the hybrid vsock unix socket (Podvisor: {@code <vm dir>/clh.sock})
     * @param port         the guest vsock port (≥ 0; the agent listens on {@link #AGENT_PORT})
     * @param totalTimeout how long to keep trying; positive
     * @return a connected channel in blocking mode, owned by the caller
     * @throws IOException            "no answer from the guest agent on hybrid vsock &lt;udsPath&gt; port &lt;port&gt;
     *                                within &lt;ms&gt; ms", the last attempt's failure as its cause
     * @throws InterruptedIOException if the thread is interrupted (the flag stays set)
     * @throws IllegalArgumentException if the port is negative or the timeout not positive
     */
    public static SocketChannel dial(Path udsPath, int port, Duration totalTimeout) throws IOException {
        Objects.requireNonNull(udsPath, "udsPath");
        Objects.requireNonNull(totalTimeout, "totalTimeout");
        if (port < 0) {
            throw new IllegalArgumentException("hybrid vsock port " + port + ": must not be negative");
        }
        if (totalTimeout.isNegative() || totalTimeout.isZero()) {
            throw new IllegalArgumentException("hybrid vsock totalTimeout " + totalTimeout + ": must be positive");
        }
        long start = System.nanoTime();
        long deadline = start + totalTimeout.toNanos();
        IOException last = null;
        while (true) {
            long attemptDeadline = Math.min(deadline, System.nanoTime() + HANDSHAKE_TIMEOUT_MS * 1_000_000L);
            try {
                return attempt(udsPath, port, attemptDeadline);
            } catch (Interrupted e) {
                throw e;
            } catch (IOException e) {
                last = e;
            }
            if (deadline - System.nanoTime() <= RETRY_INTERVAL_MS * 1_000_000L) {
                IOException timeout = new IOException("no answer from the guest agent on hybrid vsock " + udsPath
                        + " port " + port + " within " + totalTimeout.toMillis() + " ms");
                timeout.initCause(last);
                throw timeout;
            }
            try {
                Thread.sleep(RETRY_INTERVAL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Interrupted("hybrid vsock " + udsPath + " port " + port + ": interrupted");
            }
        }
    }

    /** Interrupt marker, kept apart from attempt failures. */
    private static final class Interrupted extends InterruptedIOException {
        Interrupted(String message) {
            super(message);
        }
    }

    private static SocketChannel attempt(Path udsPath, int port, long deadline) throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        Selector sel = null;
        boolean ok = false;
        try {
            ch.configureBlocking(false);
            sel = Selector.open();
            SelectionKey key = ch.register(sel, 0);
            if (!ch.connect(UnixDomainSocketAddress.of(udsPath))) {
                key.interestOps(SelectionKey.OP_CONNECT);
                while (!ch.finishConnect()) {
                    await(sel, deadline, "connecting");
                }
            }
            ByteBuffer out = ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                if (ch.write(out) == 0) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    await(sel, deadline, "sending CONNECT");
                }
            }
            key.interestOps(SelectionKey.OP_READ);
            var line = new ByteArrayOutputStream(32);
            ByteBuffer one = ByteBuffer.allocate(1);
            while (true) {
                one.clear();
                int n = ch.read(one);
                if (n < 0) {
                    throw new IOException("closed before answering CONNECT " + port
                            + (line.size() > 0 ? " (partial answer '" + line + "')" : ""));
                }
                if (n == 0) {
                    await(sel, deadline, "waiting for the answer line");
                    continue;
                }
                byte b = one.get(0);
                if (b == '\n') {
                    break;
                }
                if (line.size() >= MAX_LINE) {
                    throw new IOException("answer line longer than " + MAX_LINE + " bytes");
                }
                line.write(b);
            }
            String answer = line.toString(StandardCharsets.US_ASCII);
            if (!answer.startsWith("OK")) {
                throw new IOException("bad answer '" + answer + "' to CONNECT " + port);
            }
            sel.close(); // deregisters the channel so it may go back to blocking mode
            sel = null;
            ch.configureBlocking(true);
            ok = true;
            return ch;
        } finally {
            if (sel != null) {
                try {
                    sel.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
            if (!ok) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // nothing to do
                }
            }
        }
    }

    private static void await(Selector sel, long deadline, String phase) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new IOException("no progress while " + phase + " within the attempt's time");
        }
        sel.select(Math.max(1, Duration.ofNanos(left).toMillis()));
        sel.selectedKeys().clear();
        if (Thread.currentThread().isInterrupted()) {
            throw new Interrupted("hybrid vsock: interrupted while " + phase);
        }
    }
}
