package dev.podvisor.protocols.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import com.google.protobuf.StringValue;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.io.ByteArrayOutputStream;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Methods added with {@link TtrpcService.Builder#unaryInline}, next to ordinary ones on one connection. */
@Timeout(60)
class TtrpcServerInlineTest {
    static final String SVC = "test.Inline";

    @TempDir
    Path dir;
    TtrpcServer server;
    SocketChannel ch;
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch blockEntered = new CountDownLatch(1);

    @BeforeEach
    void start() {
        TtrpcService service = TtrpcService.builder(SVC)
                .unaryInline("Echo", StringValue.parser(), (ctx, req) -> StringValue.of(req.getValue()))
                .unaryInline("Fail", StringValue.parser(), (ctx, req) -> {
                    throw new TtrpcException(Code.NOT_FOUND, req.getValue());
                })
                .unaryInline("Boom", StringValue.parser(), (ctx, req) -> {
                    throw new IllegalStateException("boom: " + req.getValue());
                })
                .unaryInline("Slow", Empty.parser(), (ctx, req) -> {
                    // work that outlasts the caller's deadline (a handler's own time, not synchronisation)
                    Instant until = ctx.deadline().orElseThrow().plusMillis(20);
                    while (Instant.now().isBefore(until)) {
                        LockSupport.parkNanos(1_000_000);
                    }
                    return StringValue.of("too late");
                })
                .unary("Threaded", StringValue.parser(), (ctx, req) -> StringValue.of(req.getValue()))
                .unary("Block", Empty.parser(), (ctx, req) -> {
                    blockEntered.countDown();
                    release.await();
                    return StringValue.of("released");
                })
                .build();
        server = TtrpcServer.builder().service(service).build();
        Path socket = dir.resolve("ttrpc.sock");
        server.serve(Sockets.listen(socket));
        ch = Sockets.connect(socket);
    }

    @AfterEach
    void stop() throws Exception {
        release.countDown();
        ch.close();
        server.close();
    }

    static Request request(String method, com.google.protobuf.MessageLite payload) {
        return Request.newBuilder().setService(SVC).setMethod(method).setPayload(payload.toByteString()).build();
    }

    static void assertEcho(Response r, String value) throws Exception {
        assertEquals(0, r.getStatus().getCode(), r.getStatus().getMessage());
        assertEquals(value, StringValue.parseFrom(r.getPayload()).getValue());
    }

    @Test
    void inlineCallIsAnsweredWhileABlockingCallIsInFlightOnTheSameConnection() throws Exception {
        Sockets.sendRequest(ch, 1, request("Block", Empty.getDefaultInstance()));
        assertTrue(blockEntered.await(10, java.util.concurrent.TimeUnit.SECONDS));
        Sockets.sendRequest(ch, 3, request("Echo", StringValue.of("meanwhile")));
        assertEcho(Sockets.readResponse(ch, 3), "meanwhile");
        release.countDown();
        assertEcho(Sockets.readResponse(ch, 1), "released");
    }

    @Test
    void pipelinedInlineCallsSentInOneWriteAreAnsweredInOrder() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < 200; i++) {
            byte[] req = request("Echo", StringValue.of("n" + i)).toByteArray();
            Frame f = new Frame(2 * i + 1, Frame.TYPE_REQUEST, 0, req);
            out.writeBytes(FrameCodec.header(f).array());
            out.writeBytes(req);
        }
        Sockets.writeRaw(ch, out.toByteArray());
        for (int i = 0; i < 200; i++) {
            assertEcho(Sockets.readResponse(ch, 2 * i + 1), "n" + i);
        }
    }

    @Test
    void inlineHandlerErrorsAreMappedAndTheConnectionStays() throws Exception {
        Sockets.sendRequest(ch, 1, request("Fail", StringValue.of("container x: not found")));
        Response notFound = Sockets.readResponse(ch, 1);
        assertEquals(Code.NOT_FOUND.value(), notFound.getStatus().getCode());
        assertEquals("container x: not found", notFound.getStatus().getMessage());
        Sockets.sendRequest(ch, 3, request("Boom", StringValue.of("y")));
        Response boom = Sockets.readResponse(ch, 3);
        assertEquals(Code.UNKNOWN.value(), boom.getStatus().getCode());
        assertEquals("boom: y", boom.getStatus().getMessage());
        Sockets.sendRequest(ch, 5, request("Echo", StringValue.of("still fine")));
        assertEcho(Sockets.readResponse(ch, 5), "still fine");
    }

    @Test
    void inlineCallFinishingPastItsDeadlineIsAnsweredDeadlineExceeded() throws Exception {
        Sockets.sendRequest(ch, 1, request("Slow", Empty.getDefaultInstance()).toBuilder()
                .setTimeoutNano(Duration.ofMillis(50).toNanos()).build());
        Response r = Sockets.readResponse(ch, 1);
        assertEquals(Code.DEADLINE_EXCEEDED.value(), r.getStatus().getCode());
        assertEquals("context deadline exceeded", r.getStatus().getMessage());
        Sockets.sendRequest(ch, 3, request("Echo", StringValue.of("next")).toBuilder()
                .setTimeoutNano(Duration.ofSeconds(30).toNanos()).build());
        assertEcho(Sockets.readResponse(ch, 3), "next");
    }

    @Test
    void manyTimedCallsAreAnsweredNormallyAndALateOneStillExpires() throws Exception {
        for (int i = 0; i < 300; i++) {
            String method = i % 2 == 0 ? "Echo" : "Threaded";
            Sockets.sendRequest(ch, 2 * i + 1, request(method, StringValue.of(method + i)).toBuilder()
                    .setTimeoutNano(Duration.ofSeconds(30).toNanos()).build());
            assertEcho(Sockets.readResponse(ch, 2 * i + 1), method + i);
        }
        Sockets.sendRequest(ch, 1001, request("Block", Empty.getDefaultInstance()).toBuilder()
                .setTimeoutNano(Duration.ofMillis(100).toNanos()).build());
        Response r = Sockets.readResponse(ch, 1001);
        assertEquals(Code.DEADLINE_EXCEEDED.value(), r.getStatus().getCode());
    }
}
