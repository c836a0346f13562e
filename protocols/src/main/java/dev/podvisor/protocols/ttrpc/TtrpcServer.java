package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import dev.podvisor.protocols.google.rpc.Status;
import dev.podvisor.protocols.ttrpc.wire.KeyValue;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * A ttrpc server over unix-domain sockets: unary calls only, each handled on its own virtual thread
 * (methods added with {@link TtrpcService.Builder#unaryInline} run on the connection's reader instead; the
 * reader is a platform thread unless {@link Builder#platformReaders(boolean)} says otherwise),
 * responses written as they complete (any order), writes serialised per connection. Deadlines of calls
 * are watched by one shared scheduler thread, started when first needed and ended when idle.
 *
 * <p>Rules follow containerd/ttrpc server.go and services.go:
 * <ul>
 *   <li>even stream id → INVALID_ARGUMENT "StreamID must be odd for client initiated streams";</li>
 *   <li>a Request id not greater than the previous one → INVALID_ARGUMENT "StreamID cannot be re-used and
 *       must increment";</li>
 *   <li>Data for a stream with no call in flight → INVALID_ARGUMENT "StreamID is no longer active" (Data for an
 *       in-flight unary call is dropped); unknown frame types are ignored;</li>
 *   <li>an unparsable Request → INVALID_ARGUMENT "unmarshal request error: ..."; unknown service →
 *       UNIMPLEMENTED "service &lt;name&gt;"; unknown method → UNIMPLEMENTED "method &lt;name&gt;";</li>
 *   <li>payload over 4 MiB → read and discarded, RESOURCE_EXHAUSTED "message length N exceed maximum message
 *       size of 4194304" on that stream; the connection stays. A response over 4 MiB is replaced by that
 *       status;</li>
 *   <li>{@code timeout_nano} &gt; 0 → {@link CallContext#deadline()}; still running then → answered
 *       DEADLINE_EXCEEDED "context deadline exceeded" (the handler is not interrupted; its result is dropped);</li>
 *   <li>handler {@link TtrpcException} → its status; other exceptions → UNKNOWN with the exception message;</li>
 *   <li>a short header or truncated payload closes the connection.</li>
 * </ul>
 * With {@link Builder#requireSameUid(boolean)} a connection whose SO_PEERCRED uid differs from this
 * process's effective uid is closed at once (like containerd's {@code UnixSocketRequireSameUser}, uid only).
 */
public final class TtrpcServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TtrpcServer.class.getName());
    private static final Duration ACCEPT_ERROR_PAUSE = Duration.ofMillis(50);
    private static final long DEADLINE_THREAD_IDLE_SECONDS = 10;
    private static final Status OK = Status.newBuilder().setCode(0).build();

    private final Map<String, TtrpcService> services;
    private final UserPrincipal requiredUser;
    private final CallObserver observer;
    private final Set<ServerSocketChannel> listeners = ConcurrentHashMap.newKeySet();
    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final ScheduledThreadPoolExecutor deadlines;
    private volatile boolean closed;

    private final boolean platformReaders;

    private TtrpcServer(Map<String, TtrpcService> services, UserPrincipal requiredUser, CallObserver observer,
                        boolean platformReaders) {
        this.platformReaders = platformReaders;
        this.services = Map.copyOf(services);
        this.requiredUser = requiredUser;
        this.observer = observer;
        this.deadlines = new ScheduledThreadPoolExecutor(1, Thread.ofVirtual().name("ttrpc-deadlines").factory());
        deadlines.setKeepAliveTime(DEADLINE_THREAD_IDLE_SECONDS, TimeUnit.SECONDS);
        deadlines.allowCoreThreadTimeOut(true);
        deadlines.setRemoveOnCancelPolicy(true);
    }

    /** Told about every answered call (e.g. to time RPCs); must be fast and must not throw. */
    @FunctionalInterface
    public interface CallObserver {
        /**
         * @param ctx    the call (service, method)
         * @param nanos  from the start of the handler to the answer being queued
         * @param code   the answer's status code ({@code 0} = OK)
         */
        void answered(CallContext ctx, long nanos, int code);
    }

    /** Starts a server definition. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Accepts connections on a listener, on a virtual thread; returns at once. The server owns the listener
     * from now on and closes it in {@link #close()}. May be called for several listeners.
     *
     * @param listener a bound, blocking unix-domain server channel
     * @throws IllegalArgumentException if the listener is in non-blocking mode
     * @throws IllegalStateException    if the server is closed
     */
    public void serve(ServerSocketChannel listener) {
        Objects.requireNonNull(listener, "listener");
        if (!listener.isBlocking()) {
            throw new IllegalArgumentException("ttrpc serve: listener must be in blocking mode");
        }
        if (closed) {
            throw new IllegalStateException("ttrpc serve: server is closed");
        }
        listeners.add(listener);
        if (closed) {
            closeQuietly(listener);
            throw new IllegalStateException("ttrpc serve: server is closed");
        }
        Thread.ofVirtual().name("ttrpc-accept").start(() -> acceptLoop(listener));
    }

    /** The number of open connections (for diagnostics). */
    public int connectionCount() {
        return connections.size();
    }

    /** Stops accepting (closes all listeners) and closes all connections. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (ServerSocketChannel l : listeners) {
            closeQuietly(l);
        }
        listeners.clear();
        for (Connection c : connections) {
            c.close();
        }
        deadlines.shutdownNow();
    }

    private void acceptLoop(ServerSocketChannel listener) {
        while (!closed && listener.isOpen()) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                break;
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "ttrpc accept failed", e);
                try {
                    Thread.sleep(ACCEPT_ERROR_PAUSE);
                } catch (InterruptedException ie) {
                    break;
                }
                continue;
            }
            try {
                start(ch);
            } catch (RuntimeException e) {
                closeQuietly(ch);
                LOG.log(System.Logger.Level.WARNING, "ttrpc connection setup failed", e);
            }
        }
        listeners.remove(listener);
    }

    private void start(SocketChannel ch) {
        UnixDomainPrincipal peer = null;
        try {
            peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
        } catch (IOException | UnsupportedOperationException e) {
            LOG.log(System.Logger.Level.DEBUG, "ttrpc: SO_PEERCRED unavailable", e);
        }
        if (requiredUser != null && (peer == null || !requiredUser.equals(peer.user()))) {
            LOG.log(System.Logger.Level.WARNING, "ttrpc: rejecting peer " + (peer == null ? "?" : peer.user().getName())
                    + ": uid differs from required " + requiredUser.getName());
            closeQuietly(ch);
            return;
        }
        int uid = peer == null ? -1 : PeerIds.uid(peer.user());
        int gid = peer == null ? -1 : PeerIds.gid(peer.group());
        Connection c = new Connection(ch, uid, gid);
        connections.add(c);
        if (closed) {
            c.close();
            return;
        }
        (platformReaders ? Thread.ofPlatform().daemon() : Thread.ofVirtual()).name("ttrpc-conn").start(c::readLoop);
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closing
        }
    }

    private static Response statusResponse(Code code, String message) {
        return Response.newBuilder().setStatus(Status.newBuilder().setCode(code.value()).setMessage(message)).build();
    }

    /** One accepted connection: a reader loop plus serialised writes. */
    private final class Connection {
        private final SocketChannel ch;
        private final int peerUid;
        private final int peerGid;
        private final ReentrantLock writeLock = new ReentrantLock();
        private final Set<Integer> active = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean closing = new AtomicBoolean();
        private int lastStreamId; // reader thread only; compared unsigned

        Connection(SocketChannel ch, int peerUid, int peerGid) {
            this.ch = ch;
            this.peerUid = peerUid;
            this.peerGid = peerGid;
        }

        void readLoop() {
            try {
                FrameReader reader = new FrameReader(ch);
                while (!closing.get()) {
                    FrameCodec.Received r = reader.read();
                    if (r == null) {
                        break;
                    }
                    switch (r) {
                        case FrameCodec.Oversized o ->
                                send(o.streamId(), statusResponse(Code.RESOURCE_EXHAUSTED, FrameCodec.oversizeMessage(o.length())));
                        case Frame f -> onFrame(f);
                    }
                }
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "ttrpc connection closed: " + e.getMessage());
            } finally {
                close();
            }
        }

        private void onFrame(Frame f) {
            int id = f.streamId();
            if ((id & 1) == 0) {
                send(id, statusResponse(Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams"));
                return;
            }
            switch (f.type()) {
                case Frame.TYPE_REQUEST -> onRequest(f);
                case Frame.TYPE_DATA -> {
                    if (!active.contains(id)) {
                        send(id, statusResponse(Code.INVALID_ARGUMENT, "StreamID is no longer active"));
                    }
                }
                default -> {
                    // unknown or unexpected types are ignored for forward compatibility (ttrpc server.go)
                }
            }
        }

        private void onRequest(Frame f) {
            int id = f.streamId();
            if (Integer.compareUnsigned(id, lastStreamId) <= 0) {
                send(id, statusResponse(Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment"));
                return;
            }
            lastStreamId = id;
            Request req;
            try {
                req = Request.parseFrom(f.payload());
            } catch (InvalidProtocolBufferException e) {
                send(id, statusResponse(Code.INVALID_ARGUMENT, "unmarshal request error: " + e.getMessage()));
                return;
            }
            TtrpcService service = services.get(req.getService());
            if (service == null) {
                send(id, statusResponse(Code.UNIMPLEMENTED, "service " + req.getService()));
                return;
            }
            TtrpcService.Method<?, ?> method = service.method(req.getMethod());
            if (method == null) {
                send(id, statusResponse(Code.UNIMPLEMENTED, "method " + req.getMethod()));
                return;
            }
            Map<String, List<String>> md = new LinkedHashMap<>();
            for (KeyValue kv : req.getMetadataList()) {
                md.computeIfAbsent(kv.getKey().toLowerCase(Locale.ROOT), k -> new ArrayList<>(1)).add(kv.getValue());
            }
            md.replaceAll((k, v) -> List.copyOf(v));
            long timeoutNanos = req.getTimeoutNano();
            Optional<Instant> deadline = timeoutNanos > 0 ? Optional.of(Instant.now().plusNanos(timeoutNanos)) : Optional.empty();
            CallContext ctx = new CallContext(req.getService(), req.getMethod(), id, md, deadline, peerUid, peerGid);
            Call call = new Call(id);
            active.add(id);
            if (method.inline()) {
                call.run(method, ctx, req.getPayload(), timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0);
                return;
            }
            if (timeoutNanos > 0) {
                try {
                    call.timer = deadlines.schedule(call::expire, timeoutNanos, TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    return; // server closing: the connection is being closed too
                }
            }
            Thread.ofVirtual().name("ttrpc-call").start(() -> call.run(method, ctx, req.getPayload(), 0));
        }

        /** Writes one Response frame (one write of header and payload); failures close the connection. */
        private void send(int streamId, Response response) {
            int size = response.getSerializedSize();
            if (size > FrameCodec.MAX_PAYLOAD) {
                response = statusResponse(Code.RESOURCE_EXHAUSTED, FrameCodec.oversizeMessage(size));
            }
            byte[] frame = FrameCodec.encode(streamId, Frame.TYPE_RESPONSE, response);
            writeLock.lock();
            try {
                FrameCodec.writeFully(ch, frame);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "ttrpc write failed: " + e.getMessage());
                close();
            } finally {
                writeLock.unlock();
            }
        }

        void close() {
            if (closing.compareAndSet(false, true)) {
                closeQuietly(ch);
                connections.remove(this);
            }
        }

        /** One in-flight call: answered exactly once, by the handler or by the deadline timer. */
        private final class Call {
            private final int streamId;
            private final AtomicBoolean answered = new AtomicBoolean();
            private volatile ScheduledFuture<?> timer;

            Call(int streamId) {
                this.streamId = streamId;
            }

            /**
             * Runs the handler and answers.
             *
             * @param lateAfter {@link System#nanoTime()} after which a result is answered DEADLINE_EXCEEDED
             *                  instead (inline calls, which have no timer); 0 for none
             */
            void run(TtrpcService.Method<?, ?> method, CallContext ctx, ByteString payload, long lateAfter) {
                long started = System.nanoTime();
                Response response;
                try {
                    MessageLite result = method.invoke(ctx, payload);
                    response = result == null
                            ? statusResponse(Code.UNKNOWN, "ttrpc: marshal called with nil")
                            : Response.newBuilder().setStatus(OK).setPayload(result.toByteString()).build();
                } catch (TtrpcException e) {
                    response = Response.newBuilder().setStatus(e.toStatus()).build();
                } catch (Exception e) {
                    response = statusResponse(Code.UNKNOWN, e.getMessage() == null ? e.toString() : e.getMessage());
                } catch (Error e) {
                    answer(statusResponse(Code.INTERNAL, "ttrpc: handler failed: " + e));
                    throw e;
                }
                if (lateAfter != 0 && System.nanoTime() - lateAfter > 0) {
                    response = statusResponse(Code.DEADLINE_EXCEEDED, "context deadline exceeded");
                }
                answer(response);
                if (observer != null) {
                    observer.answered(ctx, System.nanoTime() - started, response.getStatus().getCode());
                }
            }

            void expire() {
                answer(statusResponse(Code.DEADLINE_EXCEEDED, "context deadline exceeded"));
            }

            private void answer(Response response) {
                if (answered.compareAndSet(false, true)) {
                    active.remove(streamId);
                    ScheduledFuture<?> t = timer;
                    if (t != null) {
                        t.cancel(false);
                    }
                    send(streamId, response);
                }
            }
        }
    }

    /** Collects services and options. */
    public static final class Builder {
        private final Map<String, TtrpcService> services = new LinkedHashMap<>();
        private boolean requireSameUid;
        private Integer expectedUid;
        private CallObserver observer;
        private boolean platformReaders = true;

        private Builder() {
        }

        /**
         * Whether each connection's reader is a platform thread (default true) or a virtual thread. A
         * blocked platform reader is woken by the kernel directly when a request arrives; a virtual one is
         * woken by the JDK's poller thread and then scheduled onto a carrier: two thread wake-ups per call,
         * which halved single-connection calls/s (docs/decisions/0007-ttrpc-call-path.md). Costs one
         * platform thread (stack {@code -Xss}) per open connection: a shim has one or two (containerd's);
         * pass false for servers with many connections.
         */
        public Builder platformReaders(boolean platform) {
            this.platformReaders = platform;
            return this;
        }

        /**
         * Registers a service.
         *
         * @throws IllegalArgumentException if a service of that name is already registered
         */
        public Builder service(TtrpcService service) {
            Objects.requireNonNull(service, "service");
            if (services.putIfAbsent(service.name(), service) != null) {
                throw new IllegalArgumentException("ttrpc service: '" + service.name() + "' registered twice");
            }
            return this;
        }

        /**
         * Whether to close connections whose SO_PEERCRED uid is not this process's effective uid.
         * Default false.
         */
        public Builder requireSameUid(boolean require) {
            this.requireSameUid = require;
            return this;
        }

        /** Sets the observer told about every answered call; default none. */
        public Builder observer(CallObserver observer) {
            this.observer = observer;
            return this;
        }

        /** Test hook: the uid required instead of our own (only with requireSameUid(true)). */
        Builder expectedUid(int uid) {
            this.expectedUid = uid;
            return this;
        }

        /**
         * @return the server (not yet serving)
         * @throws java.io.UncheckedIOException if requireSameUid is set and the own uid cannot be read
         */
        public TtrpcServer build() {
            UserPrincipal required = null;
            if (requireSameUid) {
                required = PeerIds.userPrincipal(expectedUid != null ? expectedUid : PeerIds.ownUid());
            }
            return new TtrpcServer(services, required, observer, platformReaders);
        }
    }

    @Override
    public String toString() {
        List<SocketAddress> addrs = new ArrayList<>();
        for (ServerSocketChannel l : listeners) {
            try {
                addrs.add(l.getLocalAddress());
            } catch (IOException ignored) {
                // closed
            }
        }
        return "TtrpcServer" + services.keySet() + " on " + addrs;
    }
}
