package dev.podvisor.protocols.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import com.google.protobuf.StringValue;
import dev.podvisor.protocols.google.rpc.Status;
import dev.podvisor.protocols.ttrpc.wire.KeyValue;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Client behaviour against a scripted peer that reads and writes raw frames. */
@Timeout(60)
class TtrpcClientTest {
    @TempDir
    Path dir;
    ServerSocketChannel listener;
    SocketChannel peer;
    TtrpcClient client;

    @BeforeEach
    void connect() throws Exception {
        Path sock = dir.resolve("peer.sock");
        listener = Sockets.listen(sock);
        SocketChannel c = Sockets.connect(sock);
        peer = listener.accept();
        client = TtrpcClient.over(c);
    }

    @AfterEach
    void close() throws Exception {
        client.close();
        peer.close();
        listener.close();
    }

    Request readRequest(int expectedId) throws Exception {
        Frame f = Sockets.readFrame(peer);
        assertEquals(Frame.TYPE_REQUEST, f.type());
        assertEquals(0, f.flags());
        assertEquals(expectedId, f.streamId());
        return Request.parseFrom(f.payload());
    }

    void answer(int id, Response r) throws Exception {
        FrameCodec.write(peer, new Frame(id, Frame.TYPE_RESPONSE, 0, r.toByteArray()));
    }

    static Response ok(com.google.protobuf.MessageLite m) {
        return Response.newBuilder().setStatus(Status.newBuilder().setCode(0)).setPayload(m.toByteString()).build();
    }

    CompletableFuture<StringValue> callAsync(String value, Duration timeout) {
        CompletableFuture<StringValue> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(client.call("svc.S", "M", StringValue.of(value), StringValue.parser(), timeout));
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    static TtrpcException failure(CompletableFuture<?> f) {
        try {
            f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof TtrpcException t) {
                return t;
            }
            throw e;
        }
        throw new AssertionError("call succeeded");
    }

    @Test
    void requestEnvelopeStreamIdsTimeoutAndMetadata() throws Exception {
        CompletableFuture<StringValue> first = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> first.complete(client.call("grpc.AgentService", "CreateContainer", StringValue.of("a"),
                StringValue.parser(), Duration.ofSeconds(7), Map.of("Containerd-Namespace-Ttrpc", "k8s.io"))));
        Request r1 = readRequest(1);
        assertEquals("grpc.AgentService", r1.getService());
        assertEquals("CreateContainer", r1.getMethod());
        assertEquals(StringValue.of("a").toByteString(), r1.getPayload());
        assertEquals(7_000_000_000L, r1.getTimeoutNano());
        assertEquals(List.of(KeyValue.newBuilder().setKey("containerd-namespace-ttrpc").setValue("k8s.io").build()),
                r1.getMetadataList());
        answer(1, ok(StringValue.of("r1")));
        assertEquals("r1", first.join().getValue());

        CompletableFuture<StringValue> second = callAsync("b", null);
        Request r2 = readRequest(3);
        assertEquals(0, r2.getTimeoutNano());
        answer(3, ok(StringValue.of("r2")));
        assertEquals("r2", second.join().getValue());

        CompletableFuture<StringValue> third = callAsync("c", null);
        readRequest(5);
        answer(5, ok(StringValue.of("r3")));
        assertEquals("r3", third.join().getValue());
    }

    @Test
    void responsesAreMatchedByStreamIdInAnyOrder() throws Exception {
        CompletableFuture<StringValue> a = callAsync("a", null);
        Request ra = Request.parseFrom(Sockets.readFrame(peer).payload());
        CompletableFuture<StringValue> b = callAsync("b", null);
        Request rb = Request.parseFrom(Sockets.readFrame(peer).payload());
        assertEquals("a", StringValue.parseFrom(ra.getPayload()).getValue());
        assertEquals("b", StringValue.parseFrom(rb.getPayload()).getValue());
        answer(3, ok(StringValue.of("for b")));
        assertEquals("for b", b.join().getValue());
        answer(1, ok(StringValue.of("for a")));
        assertEquals("for a", a.join().getValue());
    }

    @Test
    void nonOkStatusBecomesTtrpcException() throws Exception {
        CompletableFuture<StringValue> f = callAsync("x", null);
        readRequest(1);
        answer(1, Response.newBuilder().setStatus(Status.newBuilder().setCode(5).setMessage("container x: not found")).build());
        TtrpcException e = failure(f);
        assertEquals(Code.NOT_FOUND, e.code());
        assertEquals("container x: not found", e.getMessage());
    }

    @Test
    void absentStatusMeansOk() throws Exception {
        CompletableFuture<StringValue> f = callAsync("x", null);
        readRequest(1);
        answer(1, Response.newBuilder().setPayload(StringValue.of("fine").toByteString()).build());
        assertEquals("fine", f.join().getValue());
    }

    @Test
    void unparsableResponseIsInternal() throws Exception {
        CompletableFuture<StringValue> f = callAsync("x", null);
        readRequest(1);
        FrameCodec.write(peer, new Frame(1, Frame.TYPE_RESPONSE, 0, new byte[] {(byte) 0xff, (byte) 0xff}));
        assertEquals(Code.INTERNAL, failure(f).code());
        CompletableFuture<StringValue> g = callAsync("y", null);
        readRequest(3);
        answer(3, ok(StringValue.of("ok")));
        assertEquals("ok", g.join().getValue());
    }

    @Test
    void timeoutFailsTheCallButConnectionStaysUsable() throws Exception {
        CompletableFuture<StringValue> slow = callAsync("slow", Duration.ofMillis(100));
        readRequest(1);
        TtrpcException e = failure(slow);
        assertEquals(Code.DEADLINE_EXCEEDED, e.code());
        assertEquals("context deadline exceeded", e.getMessage());
        // a late answer for the abandoned stream is dropped
        answer(1, ok(StringValue.of("late")));
        CompletableFuture<StringValue> next = callAsync("next", Duration.ofSeconds(30));
        readRequest(3);
        answer(3, ok(StringValue.of("next ok")));
        assertEquals("next ok", next.join().getValue());
        assertTrue(!client.isClosed());
    }

    @Test
    void nonPositiveTimeoutFailsAtOnce() {
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> client.call("svc.S", "M", StringValue.of("x"), StringValue.parser(), Duration.ZERO));
        assertEquals(Code.DEADLINE_EXCEEDED, e.code());
    }

    @Test
    void oversizeRequestIsRefusedLocally() throws Exception {
        BytesValue huge = BytesValue.of(ByteString.copyFrom(new byte[FrameCodec.MAX_PAYLOAD]));
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> client.call("svc.S", "M", huge, StringValue.parser(), null));
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertTrue(e.getMessage().matches("message length \\d+ exceed maximum message size of 4194304"), e.getMessage());
        // nothing went out: the next request is the first frame the peer sees, and it still uses stream 1
        CompletableFuture<StringValue> f = callAsync("after", null);
        readRequest(1);
        answer(1, ok(StringValue.of("ok")));
        assertEquals("ok", f.join().getValue());
    }

    @Test
    void oversizeResponseFailsOnlyThatCall() throws Exception {
        CompletableFuture<StringValue> big = callAsync("big", null);
        readRequest(1);
        CompletableFuture<StringValue> small = callAsync("small", null);
        readRequest(3);
        int len = FrameCodec.MAX_PAYLOAD + 10;
        ByteBuffer frame = ByteBuffer.allocate(10 + len);
        frame.putInt(len).putInt(1).put((byte) Frame.TYPE_RESPONSE).put((byte) 0);
        Sockets.writeRaw(peer, frame.array());
        TtrpcException e = failure(big);
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertEquals("message length 4194314 exceed maximum message size of 4194304", e.getMessage());
        answer(3, ok(StringValue.of("small ok")));
        assertEquals("small ok", small.join().getValue());
    }

    @Test
    void peerCloseFailsPendingAndFutureCallsAndRunsOnCloseOnce() throws Exception {
        AtomicInteger closes = new AtomicInteger();
        CountDownLatch closed = new CountDownLatch(1);
        client.onClose(() -> {
            closes.incrementAndGet();
            closed.countDown();
        });
        CompletableFuture<StringValue> a = callAsync("a", null);
        CompletableFuture<StringValue> b = callAsync("b", Duration.ofSeconds(30));
        readRequest(1);
        readRequest(3);
        peer.close();
        for (CompletableFuture<StringValue> f : List.of(a, b)) {
            TtrpcException e = failure(f);
            assertEquals(Code.UNAVAILABLE, e.code());
            assertEquals("ttrpc: closed", e.getMessage());
        }
        closed.await();
        TtrpcException later = assertThrows(TtrpcException.class,
                () -> client.call("svc.S", "M", StringValue.of("x"), StringValue.parser(), null));
        assertEquals(Code.UNAVAILABLE, later.code());
        assertEquals("ttrpc: closed", later.getMessage());
        client.close();
        assertEquals(1, closes.get());
        AtomicInteger lateCallback = new AtomicInteger();
        client.onClose(lateCallback::incrementAndGet);
        assertEquals(1, lateCallback.get(), "a callback registered after close runs at once");
    }

    @Test
    void closeFailsPendingCalls() throws Exception {
        CompletableFuture<StringValue> a = callAsync("a", null);
        readRequest(1);
        client.close();
        TtrpcException e = failure(a);
        assertEquals(Code.UNAVAILABLE, e.code());
        assertEquals("ttrpc: closed", e.getMessage());
        assertTrue(client.isClosed());
        assertTrue(Sockets.peerClosed(peer));
    }

    @Test
    void malformedFrameFromPeerClosesTheClient() throws Exception {
        CompletableFuture<StringValue> a = callAsync("a", null);
        readRequest(1);
        Sockets.writeRaw(peer, new byte[] {0, 0, 0, 50, 0, 0, 0, 1, 2, 0, 1, 2});
        peer.shutdownOutput();
        TtrpcException e = failure(a);
        assertEquals(Code.UNAVAILABLE, e.code());
        assertTrue(client.isClosed());
    }

    @Test
    void dataAndUnknownFramesAreIgnored() throws Exception {
        CompletableFuture<StringValue> a = callAsync("a", null);
        readRequest(1);
        FrameCodec.write(peer, new Frame(1, Frame.TYPE_DATA, 0, new byte[] {1}));
        FrameCodec.write(peer, new Frame(1, 0x42, 0, new byte[] {1}));
        FrameCodec.write(peer, new Frame(99, Frame.TYPE_RESPONSE, 0, ok(StringValue.of("stray")).toByteArray()));
        answer(1, ok(StringValue.of("real")));
        assertEquals("real", a.join().getValue());
    }

    @Test
    void overRejectsUnconnectedOrNonBlockingChannels() throws Exception {
        try (SocketChannel unconnected = SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            assertThrows(IllegalArgumentException.class, () -> TtrpcClient.over(unconnected));
        }
        try (SocketChannel nb = Sockets.connect(dir.resolve("peer.sock"))) {
            nb.configureBlocking(false);
            assertThrows(IllegalArgumentException.class, () -> TtrpcClient.over(nb));
        }
    }
}
