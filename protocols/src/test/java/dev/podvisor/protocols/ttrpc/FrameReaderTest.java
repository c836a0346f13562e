package dev.podvisor.protocols.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {

    /** A channel handing out at most {@code chunk} bytes per read. */
    private static ReadableByteChannel source(byte[] bytes, int chunk) {
        ByteBuffer src = ByteBuffer.wrap(bytes);
        return new ReadableByteChannel() {
            @Override
            public int read(ByteBuffer dst) {
                if (!src.hasRemaining()) {
                    return -1;
                }
                int n = Math.min(chunk, Math.min(src.remaining(), dst.remaining()));
                dst.put(src.slice(src.position(), n));
                src.position(src.position() + n);
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
    }

    private static byte[] wire(List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            out.writeBytes(FrameCodec.header(f).array());
            out.writeBytes(f.payload());
        }
        return out.toByteArray();
    }

    private static Frame frame(int streamId, int size) {
        byte[] p = new byte[size];
        for (int i = 0; i < size; i++) {
            p[i] = (byte) (i * 31 + streamId);
        }
        return new Frame(streamId, Frame.TYPE_REQUEST, 2, p);
    }

    @Test
    void framesOfEverySizeComeBackWholeWhateverTheReadSizes() throws Exception {
        List<Frame> frames = new ArrayList<>();
        int id = 1;
        for (int size : new int[] {0, 1, 9, 10, 100, FrameReader.BUFFER_BYTES - 10, FrameReader.BUFFER_BYTES,
                FrameReader.BUFFER_BYTES + 1, 3 * FrameReader.BUFFER_BYTES + 7, 5, 0}) {
            frames.add(frame(id, size));
            id += 2;
        }
        byte[] bytes = wire(frames);
        for (int chunk : new int[] {1, 3, 10, 4096, Integer.MAX_VALUE}) {
            FrameReader r = new FrameReader(source(bytes, chunk));
            for (Frame expected : frames) {
                assertEquals(expected, r.read(), "chunk " + chunk);
            }
            assertNull(r.read(), "clean end after the last frame, chunk " + chunk);
        }
    }

    @Test
    void oversizePayloadIsSkippedAndTheNextFrameFollows() throws Exception {
        FrameReader r = new FrameReader(source(FrameCodecTest.oversizeThenSmall(), 65536));
        assertEquals(new FrameCodec.Oversized(FrameCodec.MAX_PAYLOAD + 1, 7, 1, 0), assertInstanceOf(FrameCodec.Oversized.class, r.read()));
        assertEquals(new Frame(9, 1, 0, new byte[] {77}), r.read());
        assertNull(r.read());
    }

    @Test
    void shortHeaderAndTruncatedPayloadAreEof() {
        EOFException header = assertThrows(EOFException.class,
                () -> new FrameReader(source(new byte[] {0, 0, 0, 1, 0}, 2)).read());
        assertTrue(header.getMessage().contains("5 of 10"), header.getMessage());
        byte[] big = wire(List.of(frame(1, 2 * FrameReader.BUFFER_BYTES)));
        byte[] cut = java.util.Arrays.copyOf(big, big.length - 1);
        EOFException payload = assertThrows(EOFException.class, () -> new FrameReader(source(cut, 1000)).read());
        assertTrue(payload.getMessage().contains("truncated frame payload"), payload.getMessage());
        byte[] small = wire(List.of(frame(1, 5)));
        EOFException smallCut = assertThrows(EOFException.class,
                () -> new FrameReader(source(java.util.Arrays.copyOf(small, 12), 1000)).read());
        assertTrue(smallCut.getMessage().contains("2 of 5"), smallCut.getMessage());
    }

    @Test
    void truncatedOversizePayloadIsEof() {
        ByteBuffer buf = ByteBuffer.allocate(10 + 100);
        buf.putInt(FrameCodec.MAX_PAYLOAD + 1).putInt(7).put((byte) 1).put((byte) 0);
        EOFException e = assertThrows(EOFException.class, () -> new FrameReader(source(buf.array(), 64)).read());
        assertTrue(e.getMessage().contains("truncated oversize"), e.getMessage());
    }

    @Test
    void emptyChannelIsACleanEnd() throws Exception {
        assertNull(new FrameReader(source(new byte[0], 1)).read());
    }
}
