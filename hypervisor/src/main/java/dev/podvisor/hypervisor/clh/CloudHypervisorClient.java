package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
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
        return decode("vmm.ping", get("vmm.ping"), "VmmPingResponse", VmmPingResponse::fromJson);
    }

    /**
     * {@code PUT vm.create} with {@code config} (204 expected).
     *
     * @param config the VM configuration
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void createVm(VmConfig config) throws IOException {
        put("vm.create", Objects.requireNonNull(config, "config").toJson());
    }

    /**
     * Kata's boot sequence with NICs (Go {@code clh.go bootVM}, runtime-rs {@code boot_vm}): {@code vm.create}
     * with {@code config} (which has no {@code net} entries: Cloud Hypervisor takes no fds there), one
     * {@link #addNet} per NIC in order, then {@code vm.boot}.
     *
     * @return per NIC, what {@code vm.add-net} answered (empty: cold-plugged, the normal case before boot)
     * @throws IOException on the first failing call (the VM may then exist unbooted: shut the VMM down)
     */
    public java.util.List<Optional<PciDeviceInfo>> createAndBoot(VmConfig config, java.util.List<TapNic> nics)
            throws IOException {
        createVm(config);
        java.util.List<Optional<PciDeviceInfo>> answers = new java.util.ArrayList<>();
        for (TapNic nic : nics) {
            answers.add(addNet(nic.config(), nic.tapFds()));
        }
        bootVm();
        return answers;
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
        return decode("vm.info", get("vm.info"), "VmInfo", VmInfo::fromJson);
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
        return requirePciInfo("vm.add-disk", put("vm.add-disk", Objects.requireNonNull(disk, "disk").toJson()));
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
        String body = put("vm.add-fs", Objects.requireNonNull(fs, "fs").toJson());
        return body.isEmpty() ? Optional.empty() : Optional.of(decodePciInfo("vm.add-fs", body));
    }

    /**
     * {@code PUT vm.add-net} with tap fds, the way Kata Go sends it ({@code clh.go vmAddNetPutRequest}): on a
     * separate raw connection (kept for the next NIC), the whole request in ONE {@code sendmsg} whose
     * {@code SCM_RIGHTS} control message carries {@code fds}, the answer read on the same connection. Cloud
     * Hypervisor takes every fd that came with the request as the NIC's queue pairs (it ignores fds on
     * {@code vm.create}, hence cold-plugging NICs this way between {@code vm.create} and {@code vm.boot}).
     *
     * @param net the NIC ({@link NetConfig#forTapFd}); its {@code num_queues} must be 2 × {@code fds.length}
     * @param fds the tap fds, one per queue pair; the caller keeps (and later closes) its copies
     * @return empty when Cloud Hypervisor answered 204 (VM not booted yet: cold plug, the guest finds the NIC by
     *         MAC); the device id and PCI address when it answered 200 (hot plug into a running VM)
     * @throws IllegalArgumentException when {@code fds} does not match {@code num_queues}
     * @throws IOException on a transport error or timeout; {@link CloudHypervisorApiException} for a non-2xx
     *                     answer (400 bad config, 404 no VM, 409 duplicate id)
     */
    public Optional<PciDeviceInfo> addNet(NetConfig net, int[] fds) throws IOException {
        Objects.requireNonNull(net, "net");
        if (fds.length == 0 || fds.length != net.queuePairs()) {
            throw new IllegalArgumentException("cloud-hypervisor vm.add-net: " + fds.length + " fds for num_queues "
                    + net.numQueues() + " (one fd per queue pair)");
        }
        byte[] body = JsonTrees.toBytes(net.toJson());
        String answer = connection.exchangeWithFds("PUT", "vm.add-net", body, fds, callTimeout);
        return answer.isEmpty() ? Optional.empty() : Optional.of(decodePciInfo("vm.add-net", answer));
    }

    /**
     * {@code PUT vm.add-device}: hot-plugs a VFIO device.
     *
     * @param device the device
     * @return the device id and PCI address Cloud Hypervisor assigned
     * @throws IOException on a transport error, timeout or non-2xx answer, or a 204 answer (VM not booted)
     */
    public PciDeviceInfo addDevice(DeviceConfig device) throws IOException {
        return requirePciInfo("vm.add-device", put("vm.add-device", Objects.requireNonNull(device, "device").toJson()));
    }

    /**
     * {@code PUT vm.remove-device}.
     *
     * @param id the id from {@link PciDeviceInfo#id()}
     * @throws IOException on a transport error, timeout or non-2xx answer
     */
    public void removeDevice(String id) throws IOException {
        put("vm.remove-device", new VmRemoveDevice(Objects.requireNonNull(id, "id")).toJson());
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
     * @return counters by device id, then by counter name (document order; a JSON null reads null)
     * @throws IOException on a transport error, timeout or non-2xx answer, or an answer that is not
     *                     {@code {device: {counter: integer}}}
     */
    public Map<String, Map<String, Long>> counters() throws IOException {
        String body = get("vm.counters");
        if (body.isEmpty()) {
            return Map.of();
        }
        try {
            return ClhFields.map(JsonTrees.parse(body), "",
                    (device, at) -> ClhFields.map(device, at, ClhFields::longValue));
        } catch (JsonProcessingException e) {
            throw new IOException("cloud-hypervisor GET vm.counters: bad JSON answer: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new IOException("cloud-hypervisor GET vm.counters: bad JSON answer: " + e.getMessage(), e);
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
        } catch (HttpWire.ClosedWithoutAnswerException e) {
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
     * {@code PUT <endpoint>} with {@code body} as compact JSON (no body when null).
     *
     * @param endpoint the endpoint name under {@code /api/v1}, e.g. {@code vm.resize}
     * @param body     the body, e.g. a request record's {@code toJson()}, or null
     * @return the answer body as text, empty for 204
     * @throws IOException on a transport error, timeout or non-2xx answer
     * @throws IllegalArgumentException when {@code body} holds a node that is not a JSON value
     */
    public String put(String endpoint, JsonNode body) throws IOException {
        return connection.exchange("PUT", endpoint, body == null ? null : JsonTrees.toBytes(body), callTimeout);
    }

    /** Closes the connection (if any). Later calls connect again. */
    @Override
    public void close() {
        connection.lock.lock();
        try {
            connection.drop();
            connection.fdConnection.close();
        } finally {
            connection.lock.unlock();
        }
    }

    private static PciDeviceInfo requirePciInfo(String endpoint, String body) throws IOException {
        if (body.isEmpty()) {
            throw new IOException("cloud-hypervisor PUT " + endpoint
                    + ": answered without PciDeviceInfo (HTTP 204: the VM is not booted)");
        }
        return decodePciInfo(endpoint, body);
    }

    private static PciDeviceInfo decodePciInfo(String endpoint, String body) throws IOException {
        return decode(endpoint, body, "PciDeviceInfo", PciDeviceInfo::fromJson);
    }

    /** How an answer type reads its parsed JSON ({@code VmInfo::fromJson}, ...). */
    @FunctionalInterface
    private interface Answer<T> {
        T fromJson(JsonNode json) throws IOException;
    }

    /**
     * Parses {@code body} and reads it as {@code type}.
     *
     * @throws IOException {@code cloud-hypervisor <endpoint>: bad <type> JSON: <what>} for text that is not
     *                     JSON (the cause a {@link JsonProcessingException}) or JSON of the wrong shape (the
     *                     message names the field)
     */
    private static <T> T decode(String endpoint, String body, String type, Answer<T> answer) throws IOException {
        if (body.isEmpty()) {
            throw new IOException("cloud-hypervisor " + endpoint + ": empty answer, expected " + type);
        }
        JsonNode json;
        try {
            json = JsonTrees.parse(body);
        } catch (JsonProcessingException e) {
            throw new IOException("cloud-hypervisor " + endpoint + ": bad " + type + " JSON: "
                    + e.getOriginalMessage(), e);
        }
        try {
            return answer.fromJson(json);
        } catch (IOException e) {
            throw new IOException("cloud-hypervisor " + endpoint + ": bad " + type + " JSON: " + e.getMessage(), e);
        }
    }

    /** The one connection, its selector and its lock, shared by all views of a client. */
    private static final class Connection {
        final Path socket;
        final ReentrantLock lock = new ReentrantLock();
        private SocketChannel channel;
        private Selector selector;
        private SelectionKey key;

        final FdApiConnection fdConnection;

        Connection(Path socket) {
            this.socket = socket;
            this.fdConnection = new FdApiConnection(socket);
        }

        /** Like {@link #exchange} on the fd-passing connection, with {@code fds} sent along. */
        String exchangeWithFds(String method, String endpoint, byte[] body, int[] fds, Duration timeout)
                throws IOException {
            String what = "cloud-hypervisor " + method + " " + endpoint + " on " + socket;
            lockWithin(timeout, what);
            try {
                HttpWire.Response r = fdConnection.exchange(method, endpoint, body, fds, timeout.toMillis());
                if (r.status() < 200 || r.status() > 299) {
                    throw new CloudHypervisorApiException(method, endpoint, r.status(), r.body());
                }
                return r.body();
            } finally {
                lock.unlock();
            }
        }

        private void lockWithin(Duration timeout, String what) throws IOException {
            try {
                if (!lock.tryLock(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    throw new SocketTimeoutException(what + ": API busy for " + timeout.toMillis() + " ms");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException(what + ": interrupted");
            }
        }

        String exchange(String method, String endpoint, byte[] body, Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            byte[] request = HttpWire.request(method, endpoint, body);
            String what = "cloud-hypervisor " + method + " " + endpoint + " on " + socket;
            lockWithin(timeout, what);
            try {
                boolean reused = dropIfStale();
                try {
                    return once(method, endpoint, request, deadline, what);
                } catch (HttpWire.ClosedWithoutAnswerException e) {
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
                    throw new HttpWire.ClosedWithoutAnswerException(what + ": connection lost while sending: " + e.getMessage());
                }
                HttpWire.Response r = readResponse(deadline, what);
                keep = r.keepAlive();
                if (r.status() < 200 || r.status() > 299) {
                    throw new CloudHypervisorApiException(method, endpoint, r.status(), r.body());
                }
                return r.body();
            } finally {
                if (!keep) {
                    drop();
                }
            }
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

        private HttpWire.Response readResponse(long deadline, String what) throws IOException {
            return HttpWire.readResponse((b, off, len) -> read(ByteBuffer.wrap(b, off, len), deadline, what), what);
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
