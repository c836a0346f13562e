package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A named ttrpc service: unary methods with their request parsers and handlers. Immutable; build with
 * {@link #builder(String)} and register with {@link TtrpcServer.Builder#service}.
 */
public final class TtrpcService {

    /**
     * Serves one unary call.
     *
     * @param <Req>  request message type
     * @param <Resp> response message type
     */
    @FunctionalInterface
    public interface Handler<Req, Resp extends MessageLite> {
        /**
         * @param ctx     the call's metadata, deadline and peer
         * @param request the parsed request
         * @return the response (never null: null is answered UNKNOWN "ttrpc: marshal called with nil")
         * @throws TtrpcException to answer with that status; any other exception is answered UNKNOWN with
         *                        its message
         */
        Resp handle(CallContext ctx, Req request) throws Exception;
    }

    /** One registered method; package-private plumbing for the server. */
    record Method<Req, Resp extends MessageLite>(String name, Parser<Req> parser, Handler<Req, Resp> handler,
                                                 boolean inline) {
        MessageLite invoke(CallContext ctx, ByteString payload) throws Exception {
            Req request;
            try {
                request = parser.parseFrom(payload);
            } catch (InvalidProtocolBufferException e) {
                throw new TtrpcException(Code.INVALID_ARGUMENT, "unmarshal " + name + " request: " + e.getMessage(), e);
            }
            return handler.handle(ctx, request);
        }
    }

    private final String name;
    private final Map<String, Method<?, ?>> methods;

    private TtrpcService(String name, Map<String, Method<?, ?>> methods) {
        this.name = name;
        this.methods = Map.copyOf(methods);
    }

    /**
     * Starts a service definition.
     *
     * @param name fully-qualified proto service name as it travels in {@code Request.service}, e.g.
     *             {@code containerd.task.v2.Task}
     * @throws IllegalArgumentException if name is blank
     */
    public static Builder builder(String name) {
        Objects.requireNonNull(name, "service name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("service name: '" + name + "' is blank");
        }
        return new Builder(name);
    }

    /** The fully-qualified service name. */
    public String name() {
        return name;
    }

    /** The registered method names. */
    public Set<String> methodNames() {
        return methods.keySet();
    }

    Method<?, ?> method(String method) {
        return methods.get(method);
    }

    /** Collects the methods of one service. */
    public static final class Builder {
        private final String name;
        private final Map<String, Method<?, ?>> methods = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name;
        }

        /**
         * Adds a unary method.
         *
         * @param method  bare method name as in {@code Request.method}, e.g. {@code Create}
         * @param parser  request parser, e.g. {@code CreateTaskRequest.parser()}
         * @param handler the handler, run on its own virtual thread per call
         * @return this builder
         * @throws IllegalArgumentException if the method is blank or already registered
         */
        public <Req, Resp extends MessageLite> Builder unary(String method, Parser<Req> parser, Handler<Req, Resp> handler) {
            return add(method, parser, handler, false);
        }

        /**
         * Adds a unary method whose handler never blocks (no I/O, no waiting, no lock held across either, e.g.
         * answering from in-memory bookkeeping). It runs on the connection's reader thread, which saves the
         * hand-off to a call thread; while it runs, no further frame of that connection is read. A deadline
         * ({@code timeout_nano}) is checked when it returns: a late result is answered DEADLINE_EXCEEDED.
         *
         * @param method  bare method name, e.g. {@code State}
         * @param parser  request parser
         * @param handler the handler
         * @return this builder
         * @throws IllegalArgumentException if the method is blank or already registered
         */
        public <Req, Resp extends MessageLite> Builder unaryInline(String method, Parser<Req> parser,
                                                                   Handler<Req, Resp> handler) {
            return add(method, parser, handler, true);
        }

        private <Req, Resp extends MessageLite> Builder add(String method, Parser<Req> parser, Handler<Req, Resp> handler,
                                                            boolean inline) {
            Objects.requireNonNull(method, "method");
            Objects.requireNonNull(parser, "parser");
            Objects.requireNonNull(handler, "handler");
            if (method.isBlank()) {
                throw new IllegalArgumentException("service " + name + " method: '" + method + "' is blank");
            }
            if (methods.putIfAbsent(method, new Method<>(method, parser, handler, inline)) != null) {
                throw new IllegalArgumentException("service " + name + " method: '" + method + "' registered twice");
            }
            return this;
        }

        /** The immutable service. */
        public TtrpcService build() {
            return new TtrpcService(name, methods);
        }
    }
}
