package dev.podvisor.protocols.ttrpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import org.junit.jupiter.api.Test;

class FrameCodecTest {

    /** A gathering channel over a byte array stream. */
    private static final class Sink implements GatheringByteChannel {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final WritableByteChannel w = Channels.newChannel(out);

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws java.io.IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += w.write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws java.io.IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) throws java.io.IOException {
            return w.write(src);
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static ReadableByteChannel source(byte[] bytes) {
        return Channels.newChannel(new ByteArrayInputStream(bytes));
    }

    @Test
    void headerIsTenBigEndianBytes() throws Exception {
        Sink sink = new Sink();
        FrameCodec.write(sink, new Frame(0x01020304, Frame.TYPE_RESPONSE, Frame.FLAG_REMOTE_CLOSED, new byte[] {9, 8, 7}));
        assertArrayEquals(new byte[] {0, 0, 0, 3, 1, 2, 3, 4, 2, 1, 9, 8, 7}, sink.out.toByteArray());
    }

    @Test
    void roundTripKeepsEveryField() throws Exception {
        Sink sink = new Sink();
        Frame a = new Frame(0xfffffffd, 0xff, 0x80, new byte[] {1, 2});
        Frame b = new Frame(3, Frame.TYPE_REQUEST, 0, new byte[0]);
        FrameCodec.write(sink, a);
        FrameCodec.write(sink, b);
        ReadableByteChannel in = source(sink.out.toByteArray());
        assertEquals(a, FrameCodec.read(in));
        assertEquals(b, FrameCodec.read(in));
        assertNull(FrameCodec.read(in), "clean end of stream");
    }

    @Test
    void shortHeaderIsEof() {
        EOFException e = assertThrows(EOFException.class, () -> FrameCodec.read(source(new byte[] {0, 0, 0, 1, 0})));
        assertTrue(e.getMessage().contains("5 of 10"), e.getMessage());
    }

    @Test
    void truncatedPayloadIsEof() {
        byte[] bytes = {0, 0, 0, 5, 0, 0, 0, 1, 1, 0, 42, 43};
        EOFException e = assertThrows(EOFException.class, () -> FrameCodec.read(source(bytes)));
        assertTrue(e.getMessage().contains("2 of 5"), e.getMessage());
    }

    /** An oversize request on stream 7 (MAX_PAYLOAD + 1 bytes), then a 1-byte request {77} on stream 9. */
    static byte[] oversizeThenSmall() {
        int len = FrameCodec.MAX_PAYLOAD + 1;
        ByteBuffer buf = ByteBuffer.allocate(10 + len + 10 + 1);
        buf.putInt(len).putInt(7).put((byte) 1).put((byte) 0).position(10 + len);
        buf.putInt(1).putInt(9).put((byte) 1).put((byte) 0).put((byte) 77);
        return buf.array();
    }

    @Test
    void oversizePayloadIsSkippedAndStreamStaysInSync() throws Exception {
        byte[] bytes = oversizeThenSmall();
        FrameCodec.Received r = FrameCodec.read(source(bytes));
        FrameCodec.Oversized o = assertInstanceOf(FrameCodec.Oversized.class, r);
        assertEquals(new FrameCodec.Oversized(FrameCodec.MAX_PAYLOAD + 1, 7, 1, 0), o);
        ReadableByteChannel in = source(bytes);
        FrameCodec.read(in);
        assertEquals(new Frame(9, 1, 0, new byte[] {77}), FrameCodec.read(in));
    }

    @Test
    void maximumPayloadIsAccepted() throws Exception {
        Sink sink = new Sink();
        FrameCodec.write(sink, new Frame(1, 1, 0, new byte[FrameCodec.MAX_PAYLOAD]));
        Frame f = assertInstanceOf(Frame.class, FrameCodec.read(source(sink.out.toByteArray())));
        assertEquals(FrameCodec.MAX_PAYLOAD, f.length());
    }

    @Test
    void oversizeWriteIsRefusedAndWritesNothing() {
        Sink sink = new Sink();
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> FrameCodec.write(sink, new Frame(1, 1, 0, new byte[FrameCodec.MAX_PAYLOAD + 1])));
        assertEquals(Code.RESOURCE_EXHAUSTED, e.code());
        assertEquals("message length 4194305 exceed maximum message size of 4194304", e.getMessage());
        assertEquals(0, sink.out.size());
    }

    @Test
    void frameValidatesItsFields() {
        assertThrows(IllegalArgumentException.class, () -> new Frame(2, 1, 1, 0, new byte[1]));
        assertThrows(IllegalArgumentException.class, () -> new Frame(1, 256, 0, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new Frame(1, 1, -1, new byte[0]));
        assertThrows(NullPointerException.class, () -> new Frame(0, 1, 1, 0, null));
    }

    @Test
    void codeNumbersMatchGrpc() {
        assertEquals(0, Code.OK.value());
        assertEquals(4, Code.DEADLINE_EXCEEDED.value());
        assertEquals(5, Code.NOT_FOUND.value());
        assertEquals(8, Code.RESOURCE_EXHAUSTED.value());
        assertEquals(12, Code.UNIMPLEMENTED.value());
        assertEquals(14, Code.UNAVAILABLE.value());
        assertEquals(16, Code.UNAUTHENTICATED.value());
        assertEquals(Code.UNIMPLEMENTED, Code.of(12));
        assertEquals(Code.UNKNOWN, Code.of(99));
        assertEquals(Code.UNKNOWN, Code.of(-1));
        assertThrows(IllegalArgumentException.class, () -> new TtrpcException(Code.OK, "x"));
    }
}
