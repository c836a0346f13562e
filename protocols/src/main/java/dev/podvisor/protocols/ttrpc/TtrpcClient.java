package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import dev.podvisor.protocols.ttrpc.wire.KeyValue;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A ttrpc client on one connected unix-domain (or hybrid vsock) stream: unary calls, many at once.
 *
 * <p>Follows containerd/ttrpc client.go: stream ids are odd, starting at 1 and growing by 2, assigned in
 * send order; one reader (virtual thread) hands each Response to its waiting call, in whatever order they
 * arrive; {@code timeout_nano} carries the call's timeout. When the connection ends (peer closed, malformed
 * frame, {@link #close()}), every pending and later call fails with UNAVAILABLE "ttrpc: closed" and the
 * {@link #onClose} callbacks run once.
 */
public final class TtrpcClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TtrpcClient.class.getName());
    /** Message of the UNAVAILABLE status once the connection is gone (as containerd/ttrpc ErrClosed). */
    public static final String CLOSED_MESSAGE = "ttrpc: closed";

    private final SocketChannel ch;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private final Object closeLock = new Object();
    private final List<Runnable> onClose = new ArrayList<>();
    private volatile boolean closed;
    private int nextStreamId = 1; // guarded by writeLock

    private TtrpcClient(SocketChannel ch) {
        this.ch = ch;
    }

    /**
     * Starts a client on a connected channel; the client owns the channel and closes it.
     *
     * @param channel a connected, blocking stream channel
     * @return the client, with its reader thread running
     * @throws IllegalArgumentException if the channel is not connected or not blocking
     */
    public static TtrpcClient over(SocketChannel channel) {
        Objects.requireNonNull(channel, "channel");
        if (!channel.isConnected()) {
            throw new IllegalArgumentException("ttrpc client: channel is not connected");
        }
        if (!channel.isBlocking()) {
            throw new IllegalArgumentException("ttrpc client: channel must be in blocking mode");
        }
        TtrpcClient c = new TtrpcClient(channel);
        Thread.ofVirtual().name("ttrpc-client-reader").start(c::readLoop);
        return c;
    }

    /**
     * One unary call without metadata; see {@link #call(String, String, MessageLite, Parser, Duration, Map)}.
     */
    public <Resp> Resp call(String service, String method, MessageLite request, Parser<Resp> responseParser, Duration timeout) {
        return call(service, method, request, responseParser, timeout, Map.of());
    }

    /**
     * One unary call. Blocks the calling thread (use virtual threads) until the answer, the timeout or
     * the end of the connection.
     *
     * @param service        fully-qualified service, e.g. {@code grpc.AgentService}
     * @param method         bare method, e.g. {@code CreateContainer}
     * @param request        the request message
     * @param responseParser parser of the response type, e.g. {@code Empty.parser()}
     * @param timeout        how long to wait; also sent as {@code timeout_nano}. Null = no limit
     * @param metadata       metadata pairs (keys sent lower-cased), e.g. {@code containerd-namespace-ttrpc}
     * @return the parsed response
     * @throws TtrpcException the server's non-OK status; DEADLINE_EXCEEDED "context deadline exceeded" when the
     *                        timeout passes (the connection stays usable; a late answer is dropped);
     *                        RESOURCE_EXHAUSTED if the request or the answer exceeds 4 MiB (a too large
     *                        request is not sent); UNAVAILABLE "ttrpc: closed" if the connection is or
     *                        becomes closed; INTERNAL if the answer cannot be parsed; CANCELLED if the
     *                        calling thread is interrupted (its interrupt flag is kept)
     */
    public <Resp> Resp call(String service, String method, MessageLite request, Parser<Resp> responseParser,
                            Duration timeout, Map<String, String> metadata) {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(request, "request");
        Objects.requireNonNull(responseParser, "responseParser");
        Objects.requireNonNull(metadata, "metadata");
        Request.Builder b = Request.newBuilder().setService(service).setMethod(method).setPayload(request.toByteString());
        long timeoutNanos = 0;
        if (timeout != null) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new TtrpcException(Code.DEADLINE_EXCEEDED, "context deadline exceeded");
            }
            timeoutNanos = saturatedNanos(timeout);
            b.setTimeoutNano(timeoutNanos);
        }
        metadata.forEach((k, v) -> b.addMetadata(KeyValue.newBuilder().setKey(k.toLowerCase(Locale.ROOT)).setValue(v)));
        byte[] bytes = b.build().toByteArray();
        if (bytes.length > FrameCodec.MAX_PAYLOAD) {
            throw new TtrpcException(Code.RESOURCE_EXHAUSTED, FrameCodec.oversizeMessage(bytes.length));
        }

        CompletableFuture<Response> answer = new CompletableFuture<>();
        int id = send(bytes, answer);
        Response response;
        try {
            response = timeoutNanos > 0 ? answer.get(timeoutNanos, TimeUnit.NANOSECONDS) : answer.get();
        } catch (TimeoutException e) {
            pending.remove(id);
            throw new TtrpcException(Code.DEADLINE_EXCEEDED, "context deadline exceeded");
        } catch (InterruptedException e) {
            pending.remove(id);
            Thread.currentThread().interrupt();
            throw new TtrpcException(Code.CANCELLED, "ttrpc: call " + service + "/" + method + " interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TtrpcException t) {
                throw new TtrpcException(t.code(), t.getMessage(), t);
            }
            throw new TtrpcException(Code.INTERNAL, String.valueOf(e.getCause()), e.getCause());
        }
        int code = response.hasStatus() ? response.getStatus().getCode() : 0;
        if (code != 0) {
            throw new TtrpcException(Code.of(code), response.getStatus().getMessage());
        }
        try {
            return responseParser.parseFrom(response.getPayload());
        } catch (InvalidProtocolBufferException e) {
            throw new TtrpcException(Code.INTERNAL, "ttrpc: unmarshal " + service + "/" + method + " response: " + e.getMessage(), e);
        }
    }

    /**
     * Registers a callback run once when the connection ends (on the thread that notices it); runs it at
     * once if already closed. Exceptions from callbacks are logged and ignored.
     */
    public void onClose(Runnable callback) {
        Objects.requireNonNull(callback, "callback");
        synchronized (closeLock) {
            if (!closed) {
                onClose.add(callback);
                return;
            }
        }
        runQuietly(callback);
    }

    /** Whether the connection has ended. */
    public boolean isClosed() {
        return closed;
    }

    /** Closes the connection; pending calls fail with UNAVAILABLE "ttrpc: closed". Idempotent. */
    @Override
    public void close() {
        shutdown();
    }

    private int send(byte[] bytes, CompletableFuture<Response> answer) {
        writeLock.lock();
        int id = nextStreamId;
        try {
            if (closed) {
                throw closedException();
            }
            nextStreamId += 2;
            pending.put(id, answer);
            if (closed) { // shutdown may have drained pending before our put
                pending.remove(id);
                throw closedException();
            }
            FrameCodec.write(ch, new Frame(id, Frame.TYPE_REQUEST, 0, bytes));
            return id;
        } catch (IOException e) {
            pending.remove(id);
            shutdown();
            throw new TtrpcException(Code.UNAVAILABLE, CLOSED_MESSAGE, e);
        } finally {
            writeLock.unlock();
        }
    }

    private void readLoop() {
        try {
            while (!closed) {
                FrameCodec.Received r = FrameCodec.read(ch);
                if (r == null) {
                    break;
                }
                switch (r) {
                    case FrameCodec.Oversized o -> {
                        CompletableFuture<Response> f = o.type() == Frame.TYPE_RESPONSE ? pending.remove(o.streamId()) : null;
                        if (f != null) {
                            f.completeExceptionally(new TtrpcException(Code.RESOURCE_EXHAUSTED, FrameCodec.oversizeMessage(o.length())));
                        }
                    }
                    case Frame f -> {
                        if (f.type() != Frame.TYPE_RESPONSE) {
                            continue; // Data/unknown types: nothing to do for unary calls
                        }
                        CompletableFuture<Response> waiter = pending.remove(f.streamId());
                        if (waiter == null) {
                            continue; // timed out or unknown: dropped
                        }
                        try {
                            waiter.complete(Response.parseFrom(f.payload()));
                        } catch (InvalidProtocolBufferException e) {
                            waiter.completeExceptionally(new TtrpcException(Code.INTERNAL, "ttrpc: unmarshal response: " + e.getMessage(), e));
                        }
                    }
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "ttrpc client connection ended: " + e.getMessage());
        } finally {
            shutdown();
        }
    }

    private void shutdown() {
        List<Runnable> callbacks;
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
            callbacks = List.copyOf(onClose);
            onClose.clear();
        }
        try {
            ch.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Integer id : List.copyOf(pending.keySet())) {
            CompletableFuture<Response> f = pending.remove(id);
            if (f != null) {
                f.completeExceptionally(closedException());
            }
        }
        callbacks.forEach(TtrpcClient::runQuietly);
    }

    private static TtrpcException closedException() {
        return new TtrpcException(Code.UNAVAILABLE, CLOSED_MESSAGE);
    }

    private static void runQuietly(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "ttrpc onClose callback failed", e);
        }
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
