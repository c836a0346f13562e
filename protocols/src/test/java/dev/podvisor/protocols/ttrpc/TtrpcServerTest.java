package dev.podvisor.protocols.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.Empty;
import com.google.protobuf.Int32Value;
import com.google.protobuf.StringValue;
import dev.podvisor.protocols.ttrpc.wire.KeyValue;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class TtrpcServerTest {
    static final String SVC = "test.Echo";

    @TempDir
    Path dir;
    Path socket;
    TtrpcServer server;
    final List<AutoCloseable> closeables = new ArrayList<>();
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch blockEntered = new CountDownLatch(1);
    final AtomicReference<CallContext> lastCtx = new AtomicReference<>();

    TtrpcService echoService() {
        return TtrpcService.builder(SVC)
                .unary("Echo", StringValue.parser(), (ctx, req) -> {
                    lastCtx.set(ctx);
                    return StringValue.of(req.getValue());
                })
                .unary("Fail", StringValue.parser(), (ctx, req) -> {
                    throw new TtrpcException(Code.NOT_FOUND, req.getValue());
                })
                .unary("Boom", StringValue.parser(), (ctx, req) -> {
                    throw new IllegalStateException("boom: " + req.getValue());
                })
                .unary("Null", Empty.parser(), (ctx, req) -> (Empty) null)
                .unary("Big", Int32Value.parser(), (ctx, req) -> BytesValue.of(ByteString.copyFrom(new byte[req.getValue()])))
                .unary("Block", Empty.parser(), (ctx, req) -> {
                    lastCtx.set(ctx);
                    blockEntered.countDown();
                    release.await();
                    return StringValue.of("late");
                })
                .build();
    }

    @BeforeEach
    void start() {
        socket = dir.resolve("ttrpc.sock");
        server = TtrpcServer.builder().service(echoService()).build();
        server.serve(Sockets.listen(socket));
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        for (AutoCloseable c : closeables) {
            c.close();
        }
        server.close();
    }

    TtrpcClient client() {
        TtrpcClient c = TtrpcClient.over(Sockets.connect(socket));
        closeables.add(c);
        return c;
    }

    SocketChannel raw() {
        SocketChannel ch = Sockets.connect(socket);
        closeables.add(ch);
        return ch;
    }

    static Request request(String method, com.google.protobuf.MessageLite payload) {
        return Request.newBuilder().setService(SVC).setMethod(method).setPayload(payload.toByteString()).build();
    }

    static void assertStatus(Response r, Code code, String message) {
        assertEquals(code.value(), r.getStatus().getCode(), r.getStatus().getMessage());
        assertEquals(message, r.getStatus().getMessage());
    }

    /** A raw Echo round trip on stream id, proving the connection still works. */
    static void assertEchoWorks(SocketChannel ch, int id) throws Exception {
        Sockets.sendRequest(ch, id, request("Echo", StringValue.of("ping" + id)));
        Response r = Sockets.readResponse(ch, id);
        assertEquals(0, r.getStatus().getCode());
        assertEquals("ping" + id, StringValue.parseFrom(r.getPayload()).getValue());
    }

    @Test
    void unaryRoundTrip() {
        assertEquals("hello", client().call(SVC, "Echo", StringValue.of("hello"), StringValue.parser(), null).getValue());
    }

    @Test
    void okResponseCarriesStatusCodeZeroOnTheSameStream() throws Exception {
        SocketChannel ch = raw();
        assertEchoWorks(ch, 1);
        assertEchoWorks(ch, 7);
    }

    @Test
    void metadataKeysAreLowerCasedAndRepeatedKeysKept() throws Exception {
        SocketChannel ch = raw();
        Request req = request("Echo", StringValue.of("x")).toBuilder()
                .addMetadata(KeyValue.newBuilder().setKey("Containerd-Namespace-TTRPC").setValue("k8s.io"))
                .addMetadata(KeyValue.newBuilder().setKey("a").setValue("1"))
                .addMetadata(KeyValue.newBuilder().setKey("A").setValue("2"))
                .build();
        Sockets.sendRequest(ch, 1, req);
        assertEquals(0, Sockets.readResponse(ch, 1).getStatus().getCode());
        CallContext ctx = lastCtx.get();
        assertEquals(Map.of("containerd-namespace-ttrpc", List.of("k8s.io"), "a", List.of("1", "2")), ctx.metadata());
        assertEquals("k8s.io", ctx.firstMetadata("containerd-namespace-ttrpc").orElseThrow());
        assertEquals("1", ctx.firstMetadata("A").orElseThrow());
        assertTrue(ctx.firstMetadata("missing").isEmpty());
        assertTrue(ctx.deadline().isEmpty());
        assertEquals(SVC, ctx.service());
        assertEquals("Echo", ctx.method());
        assertEquals(1, ctx.streamId());
    }

    @Test
    void clientMetadataAndPeerIdsReachTheHandler() {
        client().call(SVC, "Echo", StringValue.of("x"), StringValue.parser(), Duration.ofSeconds(30),
                Map.of("Containerd-Namespace-Ttrpc", "default"));
        CallContext ctx = lastCtx.get();
        assertEquals(List.of("default"), ctx.metadata().get("containerd-namespace-ttrpc"));
        assertTrue(ctx.deadline().isPresent());
        assertEquals(PeerIds.ownUid(), ctx.peerUid());
        assertEquals(PeerIds.ownGid(), ctx.peerGid());
    }

    @Test
    void unknownServiceAndMethodAreUnimplemented() throws Exception {
        SocketChannel ch = raw();
        Sockets.sendRequest(ch, 1, Request.newBuilder().setService("no.Such").setMethod("Echo").build());
        assertStatus(Sockets.readResponse(ch, 1), Code.UNIMPLEMENTED, "service no.Such");
        Sockets.sendRequest(ch, 3, Request.newBuilder().setService(SVC).setMethod("Nope").build());
        assertStatus(Sockets.readResponse(ch, 3), Code.UNIMPLEMENTED, "method Nope");
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> client().call(SVC, "Nope", Empty.getDefaultInstance(), Empty.parser(), null));
        assertEquals(Code.UNIMPLEMENTED, e.code());
        assertEquals("method Nope", e.getMessage());
    }

    @Test
    void evenStreamIdIsRejected() throws Exception {
        SocketChannel ch = raw();
        Sockets.sendRequest(ch, 2, request("Echo", StringValue.of("x")));
        assertStatus(Sockets.readResponse(ch, 2), Code.INVALID_ARGUMENT, "StreamID must be odd for client initiated streams");
        assertEchoWorks(ch, 1);
    }

    @Test
    void reusedOrDecreasingStreamIdIsRejected() throws Exception {
        SocketChannel ch = raw();
        assertEchoWorks(ch, 5);
        Sockets.sendRequest(ch, 5, request("Echo", StringValue.of("x")));
        assertStatus(Sockets.readResponse(ch, 5), Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
        Sockets.sendRequest(ch, 3, request("Echo", StringValue.of("x")));
        assertStatus(Sockets.readResponse(ch, 3), Code.INVALID_ARGUMENT, "StreamID cannot be re-used and must increment");
        assertEchoWorks(ch, 9);
    }

    @Test
    void dataForUnknownStreamIsRejected() throws Exception {
        SocketChannel ch = raw();
        FrameCodec.write(ch, new Frame(11, Frame.TYPE_DATA, Frame.FLAG_REMOTE_CLOSED, new byte[] {1}));
        assertStatus(Sockets.readResponse(ch, 11), Code.INVALID_ARGUMENT, "StreamID is no longer active");
        assertEchoWorks(ch, 13);
    }

    @Test
    void unknownFrameTypesAreIgnored() throws Exception {
        SocketChannel ch = raw();
        FrameCodec.write(ch, new Frame(1, 0x7f, 0, new byte[] {1, 2, 3}));
        FrameCodec.write(ch, new Frame(3, Frame.TYPE_RESPONSE, 0, new byte[0]));
        assertEchoWorks(ch, 5);
    }

    @Test
    void unparsableRequestIsInvalidArgumentAndConnectionStays() throws Exception {
        SocketChannel ch = raw();
        FrameCodec.write(ch, new Frame(1, Frame.TYPE_REQUEST, 0, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}));
        Response r = Sockets.readResponse(ch, 1);
        assertEquals(Code.INVALID_ARGUMENT.value(), r.getStatus().getCode());
        assertTrue(r.getStatus().getMessage().startsWith("unmarshal request error: "), r.getStatus().getMessage());
        assertEchoWorks(ch, 3);
    }

    @Test
    void unparsableMethodPayloadIsInvalidArgument() throws Exception {
        SocketChannel ch = raw();
        Sockets.sendRequest(ch, 1, Request.newBuilder().setService(SVC).setMethod("Echo")
                .setPayload(ByteString.copyFrom(new byte[] {(byte) 0x0a, 0x05, 'a'})).build());
        Response r = Sockets.readResponse(ch, 1);
        assertEquals(Code.INVALID_ARGUMENT.value(), r.getStatus().getCode());
        assertTrue(r.getStatus().getMessage().startsWith("unmarshal Echo request: "), r.getStatus().getMessage());
    }

    @Test
    void handlerStatusAndExceptionsAreMapped() {
        TtrpcClient c = client();
        TtrpcException notFound = assertThrows(TtrpcException.class,
                () -> c.call(SVC, "Fail", StringValue.of("container x: not found"), Empty.parser(), null));
        assertEquals(Code.NOT_FOUND, notFound.code());
        assertEquals("container x: not found", notFound.getMessage());
        TtrpcException boom = assertThrows(TtrpcException.class,
                () -> c.call(SVC, "Boom", StringValue.of("y"), Empty.parser(), null));
        assertEquals(Code.UNKNOWN, boom.code());
        assertEquals("boom: y", boom.getMessage());
        TtrpcException nil = assertThrows(TtrpcException.class,
                () -> c.call(SVC, "Null", Empty.getDefaultInstance(), Empty.parser(), null));
        assertEquals(Code.UNKNOWN, nil.code());
        assertEquals("ttrpc: marshal called with nil", nil.getMessage());
        assertEquals("still fine", c.call(SVC, "Echo", StringValue.of("still fine"), StringValue.parser(), null).getValue());
    }

    @Test
    void handlerPastItsDeadlineIsAnsweredDeadlineExceeded() throws Exception {
        SocketChannel ch = raw();
        Sockets.sendRequest(ch, 1, request("Block", Empty.getDefaultInstance()).toBuilder()
                .setTimeoutNano(Duration.ofMillis(200).toNanos()).build());
        assertStatus(Sockets.readResponse(ch, 1), Code.DEADLINE_EXCEEDED, "context deadline exceeded");
        CallContext ctx = lastCtx.get();
        assertTrue(ctx.deadline().isPresent());
        release.countDown();
        // the late result is dropped: the next frame on the wire answers the next request
        assertEchoWorks(ch, 3);
    }

    @Test
    void handlerFinishingBeforeItsDeadlineIsAnsweredNormally() throws Exception {
        SocketChannel ch = raw();
        Sockets.sendRequest(ch, 1, request("Echo", StringValue.of("quick")).toBuilder()
                .setTimeoutNano(Duration.ofSeconds(30).toNanos()).build());
        Response r = Sockets.readResponse(ch, 1);
        assertEquals(0, r.getStatus().getCode());
        assertEquals("quick", StringValue.parseFrom(r.getPayload()).getValue());
    }

    @Test
    void oversizeRequestIsAnsweredResourceExhaustedAndConnectionStays() throws Exception {
        SocketChannel ch = raw();
        int len = FrameCodec.MAX_PAYLOAD + 1;
        ByteBuffer frame = ByteBuffer.allocate(10 + len);
        frame.putInt(len).putInt(1).put((byte) Frame.TYPE_REQUEST).put((byte) 0);
        Sockets.writeRaw(ch, frame.array());
        assertStatus(Sockets.readResponse(ch, 1), Code.RESOURCE_EXHAUSTED,
                "message length 4194305 exceed maximum message size of 4194304");
        assertEchoWorks(ch, 3);
    }

    @Test
    void oversizeResponseIsReplacedByResourceExhausted() {
        TtrpcClient c = client();
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> c.call(SVC, "Big", Int32Value.of(FrameCodec.MAX_PAYLOAD), BytesValue.parser(), null));
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().startsWith("message length "), e.getMessage());
        assertTrue(e.getMessage().endsWith(" exceed maximum message size of 4194304"), e.getMessage());
        assertEquals(1000, c.call(SVC, "Big", Int32Value.of(1000), BytesValue.parser(), null).getValue().size());
    }

    @Test
    void shortHeaderClosesTheConnection() throws Exception {
        SocketChannel ch = raw();
        Sockets.writeRaw(ch, new byte[] {0, 0, 0, 1, 0});
        ch.shutdownOutput();
        assertTrue(Sockets.peerClosed(ch));
        assertEquals("ok", client().call(SVC, "Echo", StringValue.of("ok"), StringValue.parser(), null).getValue());
    }

    @Test
    void truncatedPayloadClosesTheConnection() throws Exception {
        SocketChannel ch = raw();
        Sockets.writeRaw(ch, new byte[] {0, 0, 0, 100, 0, 0, 0, 1, 1, 0, 1, 2, 3});
        ch.shutdownOutput();
        assertTrue(Sockets.peerClosed(ch));
        assertEquals("ok", client().call(SVC, "Echo", StringValue.of("ok"), StringValue.parser(), null).getValue());
    }

    @Test
    void garbageClosesTheConnectionAndServerKeepsServing() throws Exception {
        SocketChannel ch = raw();
        byte[] garbage = new byte[4096];
        new java.util.Random(42).nextBytes(garbage);
        garbage[0] = (byte) 0xff; // an absurd length: the rest is "payload" that never completes
        Sockets.writeRaw(ch, garbage);
        ch.shutdownOutput();
        assertTrue(Sockets.peerClosed(ch));
        assertEquals("ok", client().call(SVC, "Echo", StringValue.of("ok"), StringValue.parser(), null).getValue());
    }

    @Test
    void hundredConcurrentCallsAnsweredOutOfOrderOnOneConnection() throws Exception {
        int n = 100;
        CountDownLatch allArrived = new CountDownLatch(n);
        CountDownLatch[] received = new CountDownLatch[n];
        for (int i = 0; i < n; i++) {
            received[i] = new CountDownLatch(1);
        }
        // handler i answers only after the client has received answer i+1: strictly reverse order
        TtrpcService ordered = TtrpcService.builder("test.Ordered")
                .unary("Get", Int32Value.parser(), (ctx, req) -> {
                    int i = req.getValue();
                    allArrived.countDown();
                    allArrived.await();
                    if (i + 1 < n) {
                        received[i + 1].await();
                    }
                    return Int32Value.of(i * 10);
                })
                .build();
        Path sock2 = dir.resolve("ordered.sock");
        try (TtrpcServer s = TtrpcServer.builder().service(ordered).build();
             TtrpcClient c = TtrpcClient.over(serveAndConnect(s, sock2))) {
            Map<Integer, Integer> results = new ConcurrentHashMap<>();
            List<Integer> arrival = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                threads.add(Thread.ofVirtual().start(() -> {
                    int v = c.call("test.Ordered", "Get", Int32Value.of(k), Int32Value.parser(), Duration.ofSeconds(30)).getValue();
                    results.put(k, v);
                    arrival.add(k);
                    received[k].countDown();
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertEquals(n, results.size());
            for (int i = 0; i < n; i++) {
                assertEquals(i * 10, results.get(i));
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = n - 1; i >= 0; i--) {
                expected.add(i);
            }
            assertEquals(expected, arrival);
        }
    }

    private SocketChannel serveAndConnect(TtrpcServer s, Path sock) {
        s.serve(Sockets.listen(sock));
        return Sockets.connect(sock);
    }

    @Test
    void manyConnectionsAreServedAndClosedWithTheServer() throws Exception {
        int conns = 40;
        List<TtrpcClient> clients = new ArrayList<>();
        CountDownLatch closedCallbacks = new CountDownLatch(conns);
        for (int i = 0; i < conns; i++) {
            TtrpcClient c = client();
            c.onClose(closedCallbacks::countDown);
            clients.add(c);
        }
        List<Thread> threads = new ArrayList<>();
        Map<String, String> answers = new ConcurrentHashMap<>();
        for (int i = 0; i < conns; i++) {
            TtrpcClient c = clients.get(i);
            for (int j = 0; j < 5; j++) {
                String v = i + "/" + j;
                threads.add(Thread.ofVirtual().start(() ->
                        answers.put(v, c.call(SVC, "Echo", StringValue.of(v), StringValue.parser(), Duration.ofSeconds(30)).getValue())));
            }
        }
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(conns * 5, answers.size());
        answers.forEach((k, v) -> assertEquals(k, v));
        assertEquals(conns, server.connectionCount());

        server.close();
        closedCallbacks.await();
        for (TtrpcClient c : clients) {
            assertTrue(c.isClosed());
            TtrpcException e = assertThrows(TtrpcException.class,
                    () -> c.call(SVC, "Echo", StringValue.of("x"), StringValue.parser(), null));
            assertEquals(Code.UNAVAILABLE, e.code());
            assertEquals("ttrpc: closed", e.getMessage());
        }
        assertEquals(0, server.connectionCount());
    }

    @Test
    void serverCloseFailsAPendingCall() throws Exception {
        TtrpcClient c = client();
        AtomicReference<TtrpcException> failure = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                c.call(SVC, "Block", Empty.getDefaultInstance(), StringValue.parser(), null);
            } catch (TtrpcException e) {
                failure.set(e);
            }
        });
        blockEntered.await();
        server.close();
        t.join();
        assertEquals(Code.UNAVAILABLE, failure.get().code());
        assertEquals("ttrpc: closed", failure.get().getMessage());
        assertThrows(IllegalStateException.class, () -> server.serve(Sockets.listen(dir.resolve("late.sock"))));
    }

    @Test
    void sameUidPeerIsAccepted() throws Exception {
        Path sock = dir.resolve("uid.sock");
        try (TtrpcServer s = TtrpcServer.builder().requireSameUid(true).service(echoService()).build();
             TtrpcClient c = TtrpcClient.over(serveAndConnect(s, sock))) {
            assertEquals("me", c.call(SVC, "Echo", StringValue.of("me"), StringValue.parser(), null).getValue());
            assertEquals(PeerIds.ownUid(), lastCtx.get().peerUid());
        }
    }

    @Test
    void peerWithOtherUidIsRejectedByClosing() throws Exception {
        Path sock = dir.resolve("other-uid.sock");
        try (TtrpcServer s = TtrpcServer.builder().requireSameUid(true).expectedUid(PeerIds.ownUid() + 1)
                .service(echoService()).build();
             TtrpcClient c = TtrpcClient.over(serveAndConnect(s, sock))) {
            TtrpcException e = assertThrows(TtrpcException.class,
                    () -> c.call(SVC, "Echo", StringValue.of("x"), StringValue.parser(), Duration.ofSeconds(30)));
            assertEquals(Code.UNAVAILABLE, e.code());
            assertEquals("ttrpc: closed", e.getMessage());
            assertTrue(c.isClosed());
            assertEquals(0, s.connectionCount());
            assertNull(lastCtx.get(), "the handler never ran");
        }
    }

    @Test
    void builderRejectsDuplicates() {
        assertThrows(IllegalArgumentException.class, () -> TtrpcServer.builder().service(echoService()).service(echoService()));
        assertThrows(IllegalArgumentException.class, () -> TtrpcService.builder("s")
                .unary("M", Empty.parser(), (ctx, r) -> r).unary("M", Empty.parser(), (ctx, r) -> r));
        assertThrows(IllegalArgumentException.class, () -> TtrpcService.builder(" "));
    }
}
