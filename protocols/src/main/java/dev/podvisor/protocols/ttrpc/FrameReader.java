package dev.podvisor.protocols.ttrpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads ttrpc frames from one channel through a read-ahead buffer, so that a small frame (header and
 * payload) costs one {@code read} system call instead of two, and frames that arrive together (pipelined
 * calls) are taken from one read. Same results and errors as {@link FrameCodec#read}. One reader thread
 * only.
 */
final class FrameReader {
    /** Read-ahead buffer size in bytes; larger payloads are read straight into their own array. */
    static final int BUFFER_BYTES = 16 << 10;

    private final ReadableByteChannel channel;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(BUFFER_BYTES).order(ByteOrder.BIG_ENDIAN);

    FrameReader(ReadableByteChannel channel) {
        this.channel = channel;
        buf.limit(0); // empty, in read mode
    }

    /**
     * Reads the next frame.
     *
     * @return the frame, an {@link FrameCodec.Oversized} record (payload consumed), or {@code null} if the
     *         channel ended cleanly before a header byte
     * @throws EOFException if the channel ended inside a header or payload
     * @throws IOException  if the channel fails
     */
    FrameCodec.Received read() throws IOException {
        if (!fill(FrameCodec.HEADER_LENGTH)) {
            if (buf.remaining() == 0) {
                return null;
            }
            throw new EOFException("ttrpc: short frame header: " + buf.remaining() + " of " + FrameCodec.HEADER_LENGTH + " bytes");
        }
        long length = Integer.toUnsignedLong(buf.getInt());
        int streamId = buf.getInt();
        int type = Byte.toUnsignedInt(buf.get());
        int flags = Byte.toUnsignedInt(buf.get());
        if (length > FrameCodec.MAX_PAYLOAD) {
            skip(length);
            return new FrameCodec.Oversized(length, streamId, type, flags);
        }
        byte[] payload = new byte[(int) length];
        int have = Math.min(buf.remaining(), payload.length);
        buf.get(payload, 0, have);
        if (have < payload.length) {
            ByteBuffer rest = ByteBuffer.wrap(payload, have, payload.length - have);
            while (rest.hasRemaining()) {
                if (channel.read(rest) < 0) {
                    throw new EOFException("ttrpc: truncated frame payload: " + rest.position() + " of " + length + " bytes");
                }
            }
        }
        return new Frame((int) length, streamId, type, flags, payload);
    }

    /** Makes at least {@code n} (≤ buffer size) bytes available; false if the channel ended first. */
    private boolean fill(int n) throws IOException {
        if (buf.remaining() >= n) {
            return true;
        }
        buf.compact();
        try {
            while (buf.position() < n) {
                if (channel.read(buf) < 0) {
                    return false;
                }
            }
            return true;
        } finally {
            buf.flip();
        }
    }

    private void skip(long length) throws IOException {
        long left = length;
        while (left > 0) {
            if (!buf.hasRemaining() && !fill(1)) {
                throw new EOFException("ttrpc: truncated oversize frame payload: " + (length - left) + " of " + length + " bytes");
            }
            int n = (int) Math.min(buf.remaining(), left);
            buf.position(buf.position() + n);
            left -= n;
        }
    }
}
