package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A client of Cloud Hypervisor's REST API ({@code /api/v1}) over its unix-domain API socket
 * ({@code --api-socket}).
 *
 * <p>It speaks the minimum of HTTP/1.1 that Cloud Hypervisor's own {@code api_client} speaks: a request line,
 * {@code Host: localhost}, {@code Accept}, and for a body {@code Content-Type: application/json} with
 * {@code Content-Length}; the answer is a status line, headers and a {@code Content-Length} body (204 has none).
 * Like Kata, all calls go one at a time over one connection behind a lock (no pipelining); when Cloud
 * Hypervisor has closed the idle connection the client reconnects, and a request that failed on a reused
 * connection before any answer arrived is sent once more on a fresh one.
 *
 * <p>Every call is bounded by the client's call timeout (connect, write and read together); a call that runs
 * out of time throws {@link SocketTimeoutException} and drops the connection. A non-2xx answer throws
 * {@link CloudHypervisorApiException}. An interrupted call throws {@link InterruptedIOException} (the interrupt
 * flag stays set). Thread-safe.
 */
public final class CloudHypervisorClient implements AutoCloseable {
    private static final int MAX_HEADER_BYTES = 64 * 1024;
    private static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    private final Connection connection;
    private final Duration callTimeout;

    /**
     * A client for the API socket at {@code apiSocket}. Nothing is connected until the first call.
     *
     * @param apiSocket   Cloud Hypervisor's {@code --api-socket} path
     * @param callTimeout bound of each call (Kata Go: 1 s for plain calls, 5 s for hot-plug, 10 s for
     *                    create + boot); must be positive
     * @throws IllegalArgumentException if the timeout is not positive
     */
    public CloudHypervisorClient(Path apiSocket, Duration callTimeout) {
        this(new Connection(Objects.requireNonNull(apiSocket, "apiSocket")), callTimeout);
    }

    private CloudHypervisorClient(Connection connection, Duration callTimeout) {
        Objects.requireNonNull(callTimeout, "callTimeout");
        if (callTimeout.isNegative() || callTimeout.isZero()) {
            throw new IllegalArgumentException("cloud-hypervisor client callTimeout " + callTimeout
                    + ": must be positive");
        }
        this.connection = connection;
        this.callTimeout = callTimeout;
    }

    /**
     * A view of this client with another call timeout; it shares this client's connection and lock, so calls
     * through both are still serialised. Closing either closes the shared connection.
     *
     * @param timeout the bound of each call made through the view; positive
     * @return the view
     */
    public CloudHypervisorClient withCallTimeout(Duration timeout) {
        return new CloudHypervisorClient(connection, timeout);
    }

    /** @return the API socket path */
    public Path apiSocket() {
        return connection.socket;
    }

    /** @return the bound of each call */
    public Duration callTimeout() {
        return callTimeout;
    }

    /**
     * {@code GET vmm.ping}.
     *
     * @return the VMM's version, pid and features
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public VmmPingResponse ping() throws IOException {
        return decode("vmm.ping", get("vmm.ping"), VmmPingResponse.class);
    }

    /**
     * {@code PUT vm.create} with {@code config} (204 expected).
     *
     * @param config the VM configuration
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void createVm(VmConfig config) throws IOException {
        put("vm.create", Objects.requireNonNull(config, "config"));
    }

    /**
     * {@code PUT vm.boot}.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void bootVm() throws IOException {
        put("vm.boot", null);
    }

    /**
     * {@code GET vm.info}.
     *
     * @return the VM's configuration, state and device tree
     * @throws IOException on a transport error, timeout or non-2xx answer (404/500 when no VM exists)
     */
    public VmInfo info() throws IOException {
        return decode("vm.info", get("vm.info"), VmInfo.class);
    }

    /**
     * {@code PUT vm.add-disk}: hot-plugs a virtio-blk disk into the running VM.
     *
     * @param disk the disk
     * @return the device id and PCI address Cloud Hypervisor assigned
     * @throws IOException on a transport error, timeout or non-2xx answer, or when Cloud Hypervisor answered
     *                     204 (it does so when the VM is not booted: the disk went into the config only)
     */
    public PciDeviceInfo addDisk(DiskConfig disk) throws IOException {
        return requirePciInfo("vm.add-disk", put("vm.add-disk", Objects.requireNonNull(disk, "disk")));
    }

    /**
     * {@code PUT vm.add-fs}: adds a virtio-fs device.
     *
     * @param fs the device
     * @return the PCI info when the VM was running, empty when Cloud Hypervisor answered 204 (VM not booted:
     *         the device goes into the config)
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public Optional<PciDeviceInfo> addFs(FsConfig fs) throws IOException {
        String body = put("vm.add-fs", Objects.requireNonNull(fs, "fs"));
        return body.isEmpty() ? Optional.empty() : Optional.of(decode("vm.add-fs", body, PciDeviceInfo.class));
    }

    /**
     * {@code PUT vm.add-device}: hot-plugs a VFIO device.
     *
     * @param device the device
     * @return the device id and PCI address Cloud Hypervisor assigned
     * @throws IOException on a transport error, timeout or non-2xx answer, or a 204 answer (VM not booted)
     */
    public PciDeviceInfo addDevice(DeviceConfig device) throws IOException {
        return requirePciInfo("vm.add-device", put("vm.add-device", Objects.requireNonNull(device, "device")));
    }

    /**
     * {@code PUT vm.remove-device}.
     *
     * @param id the id from {@link PciDeviceInfo#id()}
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void removeDevice(String id) throws IOException {
        put("vm.remove-device", new VmRemoveDevice(Objects.requireNonNull(id, "id")));
    }

    /**
     * {@code PUT vm.shutdown}: stops the guest; the VMM keeps running.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void shutdownVm() throws IOException {
        put("vm.shutdown", null);
    }

    /**
     * {@code PUT vm.delete}.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void deleteVm() throws IOException {
        put("vm.delete", null);
    }

    /**
     * {@code PUT vm.pause}.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void pauseVm() throws IOException {
        put("vm.pause", null);
    }

    /**
     * {@code PUT vm.resume}.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void resumeVm() throws IOException {
        put("vm.resume", null);
    }

    /**
     * {@code GET vm.counters}.
     *
     * @return counters by device id, then by counter name
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public Map<String, Map<String, Long>> counters() throws IOException {
        String body = get("vm.counters");
        if (body.isEmpty()) {
            return Map.of();
        }
        try {
            return ClhJson.mapper().readValue(body, new TypeReference<>() { });
        } catch (JsonProcessingException e) {
            throw new IOException("cloud-hypervisor GET vm.counters: bad JSON answer: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * {@code PUT vmm.shutdown}: the VMM process exits. A connection that the VMM closes before answering
     * counts as success, since the process is exiting either way.
     *
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void shutdownVmm() throws IOException {
        try {
            put("vmm.shutdown", null);
        } catch (ClosedWithoutAnswerException e) {
            // the VMM went away: that is what was asked
        }
    }

    /**
     * {@code GET <endpoint>}.
     *
     * @param endpoint the endpoint name under {@code /api/v1}, e.g. {@code vm.info}
     * @return the body as text, empty for 204
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public String get(String endpoint) throws IOException {
        return connection.exchange("GET", endpoint, null, callTimeout);
    }

    /**
     * {@code PUT <endpoint>} with {@code body} as JSON (no body when null).
     *
     * @param endpoint the endpoint name under {@code /api/v1}, e.g. {@code vm.resize}
     * @param body     a record to serialise with {@link ClhJson#mapper()}, or null
     * @return the answer body as text, empty for 204
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public String put(String endpoint, Object body) throws IOException {
        byte[] bytes = null;
        if (body != null) {
            try {
                bytes = ClhJson.mapper().writeValueAsBytes(body);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("cloud-hypervisor PUT " + endpoint + ": body not serialisable: "
                        + e.getOriginalMessage(), e);
            }
        }
        return connection.exchange("PUT", endpoint, bytes, callTimeout);
    }

    /** Closes the connection (if any). Later calls connect again. */
    @Override
    public void close() {
        connection.lock.lock();
        try {
            connection.drop();
        } finally {
            connection.lock.unlock();
        }
    }

    private static PciDeviceInfo requirePciInfo(String endpoint, String body) throws IOException {
        if (body.isEmpty()) {
            throw new IOException("cloud-hypervisor PUT " + endpoint
                    + ": answered without PciDeviceInfo (HTTP 204: the VM is not booted)");
        }
        return decode(endpoint, body, PciDeviceInfo.class);
    }

    private static <T> T decode(String endpoint, String body, Class<T> type) throws IOException {
        if (body.isEmpty()) {
            throw new IOException("cloud-hypervisor " + endpoint + ": empty answer, expected " + type.getSimpleName());
        }
        try {
            return ClhJson.mapper().readValue(body, type);
        } catch (JsonProcessingException e) {
            throw new IOException("cloud-hypervisor " + endpoint + ": bad " + type.getSimpleName() + " JSON: "
                    + e.getOriginalMessage(), e);
        }
    }

    /** The connection closed before any byte of the answer arrived. */
    private static final class ClosedWithoutAnswerException extends IOException {
        ClosedWithoutAnswerException(String message) {
            super(message);
        }
    }

    /** The one connection, its selector and its lock, shared by all views of a client. */
    private static final class Connection {
        final Path socket;
        final ReentrantLock lock = new ReentrantLock();
        private SocketChannel channel;
        private Selector selector;
        private SelectionKey key;

        Connection(Path socket) {
            this.socket = socket;
        }

        String exchange(String method, String endpoint, byte[] body, Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            byte[] request = request(method, endpoint, body);
            String what = "cloud-hypervisor " + method + " " + endpoint + " on " + socket;
            try {
                if (!lock.tryLock(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    throw new SocketTimeoutException(what + ": API busy for " + timeout.toMillis() + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(what + ": interrupted");
            }
            try {
                boolean reused = dropIfStale();
                try {
                    return once(method, endpoint, request, deadline, what);
                } catch (ClosedWithoutAnswerException e) {
                    if (!reused) {
                        throw e;
                    }
                    // the VMM closed the idle connection while we were sending: once more on a fresh one
                    return once(method, endpoint, request, deadline, what);
                }
            } finally {
                lock.unlock();
            }
        }

        private String once(String method, String endpoint, byte[] request, long deadline, String what)
                throws IOException {
            boolean keep = false;
            try {
                if (channel == null) {
                    connect(deadline, what);
                }
                try {
                    write(ByteBuffer.wrap(request), deadline, what);
                } catch (InterruptedIOException e) { // includes SocketTimeoutException
                    throw e;
                } catch (IOException e) {
                    throw new ClosedWithoutAnswerException(what + ": connection lost while sending: " + e.getMessage());
                }
                Response r = readResponse(deadline, what);
                keep = r.keepAlive;
                if (r.status < 200 || r.status > 299) {
                    throw new CloudHypervisorApiException(method, endpoint, r.status, r.body);
                }
                return r.body;
            } finally {
                if (!keep) {
                    drop();
                }
            }
        }

        private static byte[] request(String method, String endpoint, byte[] body) {
            var sb = new StringBuilder(160);
            sb.append(method).append(" /api/v1/").append(endpoint).append(" HTTP/1.1\r\n")
                    .append("Host: localhost\r\n")
                    .append("Accept: application/json\r\n");
            if (body != null) {
                sb.append("Content-Type: application/json\r\n").append("Content-Length: ").append(body.length)
                        .append("\r\n");
            } else if (method.equals("PUT")) {
                sb.append("Content-Length: 0\r\n");
            }
            sb.append("\r\n");
            byte[] head = sb.toString().getBytes(StandardCharsets.US_ASCII);
            if (body == null) {
                return head;
            }
            byte[] all = new byte[head.length + body.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(body, 0, all, head.length, body.length);
            return all;
        }

        /** Drops an idle connection the VMM has closed (or sent stray bytes on); true if one is kept. */
        private boolean dropIfStale() {
            if (channel == null) {
                return false;
            }
            try {
                key.interestOps(SelectionKey.OP_READ);
                if (selector.selectNow() > 0) {
                    selector.selectedKeys().clear();
                    drop(); // EOF or unexpected bytes: either way the stream is not usable
                    return false;
                }
                return true;
            } catch (IOException | RuntimeException e) {
                drop();
                return false;
            }
        }

        private void connect(long deadline, String what) throws IOException {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            Selector sel = null;
            try {
                ch.configureBlocking(false);
                sel = Selector.open();
                SelectionKey k = ch.register(sel, 0);
                if (!ch.connect(UnixDomainSocketAddress.of(socket))) {
                    k.interestOps(SelectionKey.OP_CONNECT);
                    while (!ch.finishConnect()) {
                        await(sel, deadline, what, "connecting");
                    }
                }
                channel = ch;
                selector = sel;
                key = k;
            } catch (IOException e) {
                closeQuietly(ch, sel);
                if (e instanceof InterruptedIOException) { // includes SocketTimeoutException
                    throw e;
                }
                throw new IOException(what + ": cannot connect: " + e, e);
            }
        }

        private void write(ByteBuffer buf, long deadline, String what) throws IOException {
            while (buf.hasRemaining()) {
                if (channel.write(buf) == 0) {
                    key.interestOps(SelectionKey.OP_WRITE);
                    await(selector, deadline, what, "sending");
                }
            }
        }

        private int read(ByteBuffer buf, long deadline, String what) throws IOException {
            int n;
            while ((n = channel.read(buf)) == 0) {
                key.interestOps(SelectionKey.OP_READ);
                await(selector, deadline, what, "waiting for the answer");
            }
            return n;
        }

        private static void await(Selector sel, long deadline, String what, String phase) throws IOException {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new SocketTimeoutException(what + ": no answer within the call timeout (" + phase + ")");
            }
            sel.select(Math.max(1, Duration.ofNanos(left).toMillis()));
            sel.selectedKeys().clear();
            if (Thread.currentThread().isInterrupted()) {
                throw new InterruptedIOException(what + ": interrupted while " + phase);
            }
        }

        private record Response(int status, String body, boolean keepAlive) {
        }

        private Response readResponse(long deadline, String what) throws IOException {
            var acc = new ByteArrayOutputStream(512);
            ByteBuffer buf = ByteBuffer.allocate(4096);
            int headerEnd;
            while ((headerEnd = indexOfHeaderEnd(acc)) < 0) {
                if (acc.size() > MAX_HEADER_BYTES) {
                    throw new IOException(what + ": answer headers exceed " + MAX_HEADER_BYTES + " bytes");
                }
                buf.clear();
                int n = read(buf, deadline, what);
                if (n < 0) {
                    if (acc.size() == 0) {
                        throw new ClosedWithoutAnswerException(what + ": connection closed without an answer");
                    }
                    throw new IOException(what + ": connection closed inside the answer headers");
                }
                acc.write(buf.array(), 0, n);
            }
            byte[] all = acc.toByteArray();
            String head = new String(all, 0, headerEnd, StandardCharsets.ISO_8859_1);
            String[] lines = head.split("\r\n");
            String[] statusParts = lines[0].split(" ", 3);
            int status;
            try {
                if (statusParts.length < 2 || !statusParts[0].startsWith("HTTP/1.")) {
                    throw new NumberFormatException();
                }
                status = Integer.parseInt(statusParts[1]);
            } catch (NumberFormatException e) {
                throw new IOException(what + ": bad status line '" + lines[0] + "'");
            }
            long contentLength = -1;
            boolean keepAlive = statusParts[0].equals("HTTP/1.1");
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                switch (name) {
                    case "content-length" -> {
                        try {
                            contentLength = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            throw new IOException(what + ": bad Content-Length '" + value + "'");
                        }
                    }
                    case "connection" -> keepAlive = !value.equalsIgnoreCase("close")
                            && (keepAlive || value.equalsIgnoreCase("keep-alive"));
                    case "transfer-encoding" -> {
                        if (!value.equalsIgnoreCase("identity")) {
                            throw new IOException(what + ": unsupported Transfer-Encoding '" + value + "'");
                        }
                    }
                    default -> { }
                }
            }
            int bodyStart = headerEnd + 4;
            var body = new ByteArrayOutputStream();
            body.write(all, bodyStart, all.length - bodyStart);
            boolean noBody = status == 204 || status == 304 || (status >= 100 && status < 200);
            if (noBody) {
                contentLength = 0;
            }
            if (contentLength > MAX_BODY_BYTES) {
                throw new IOException(what + ": answer body of " + contentLength + " bytes is too large");
            }
            if (contentLength >= 0) {
                while (body.size() < contentLength) {
                    buf.clear();
                    buf.limit((int) Math.min(buf.capacity(), contentLength - body.size()));
                    int n = read(buf, deadline, what);
                    if (n < 0) {
                        throw new IOException(what + ": connection closed after " + body.size() + " of "
                                + contentLength + " body bytes");
                    }
                    body.write(buf.array(), 0, n);
                }
                if (body.size() > contentLength) {
                    keepAlive = false; // stray bytes after the answer: the stream is out of step
                }
                byte[] b = body.toByteArray();
                return new Response(status, new String(b, 0, (int) contentLength, StandardCharsets.UTF_8), keepAlive);
            }
            // no length: the body runs to the end of the connection
            while (true) {
                buf.clear();
                int n = read(buf, deadline, what);
                if (n < 0) {
                    break;
                }
                body.write(buf.array(), 0, n);
                if (body.size() > MAX_BODY_BYTES) {
                    throw new IOException(what + ": answer body exceeds " + MAX_BODY_BYTES + " bytes");
                }
            }
            return new Response(status, body.toString(StandardCharsets.UTF_8), false);
        }

        private static int indexOfHeaderEnd(ByteArrayOutputStream acc) {
            byte[] b = acc.toByteArray();
            for (int i = 0; i + 3 < b.length; i++) {
                if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
                    return i;
                }
            }
            return -1;
        }

        void drop() {
            closeQuietly(channel, selector);
            channel = null;
            selector = null;
            key = null;
        }

        private static void closeQuietly(SocketChannel ch, Selector sel) {
            try {
                if (sel != null) {
                    sel.close();
                }
            } catch (IOException ignored) {
                // nothing to do
            }
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException ignored) {
                // nothing to do
            }
        }
    }
}
