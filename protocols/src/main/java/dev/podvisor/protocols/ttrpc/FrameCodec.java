package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.MessageLite;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;

/**
 * Reads and writes ttrpc frames on a byte channel (containerd/ttrpc channel.go).
 *
 * <p>Header: 10 bytes, big-endian: payload length (uint32), stream id (uint32), type (uint8), flags
 * (uint8). Payloads are limited to {@link #MAX_PAYLOAD} bytes (4 MiB, {@code messageLengthMax}). Not
 * thread-safe by itself: callers serialise writes per channel, and read from one thread.
 */
public final class FrameCodec {
    /** Header size in bytes. */
    public static final int HEADER_LENGTH = 10;
    /** Largest payload in bytes: 4 MiB = 4194304 (ttrpc {@code messageLengthMax}). */
    public static final int MAX_PAYLOAD = 4 << 20;

    private static final int DISCARD_CHUNK = 8192;

    private FrameCodec() {
    }

    /** What {@link #read} returns: a whole {@link Frame}, or an {@link Oversized} frame whose payload was skipped. */
    public sealed interface Received permits Frame, Oversized {
    }

    /**
     * A frame whose payload exceeded {@link #MAX_PAYLOAD}; the payload was read and discarded, so the
     * stream stays in sync. A server answers it with {@link #oversizeMessage} as RESOURCE_EXHAUSTED.
     *
     * @param length   the announced payload length in bytes (uint32 value)
     * @param streamId stream id
     * @param type     message type
     * @param flags    flags
     */
    public record Oversized(long length, int streamId, int type, int flags) implements Received {
    }

    /**
     * The status message for an oversize message, as containerd/ttrpc words it.
     *
     * @param length the payload length in bytes
     * @return {@code "message length <length> exceed maximum message size of 4194304"}
     */
    public static String oversizeMessage(long length) {
        return "message length " + length + " exceed maximum message size of " + MAX_PAYLOAD;
    }

    /**
     * Encodes the 10-byte header of a frame.
     *
     * @param frame the frame
     * @return a buffer positioned at 0 with 10 bytes remaining
     */
    public static ByteBuffer header(Frame frame) {
        ByteBuffer h = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
        h.putInt(frame.length()).putInt(frame.streamId()).put((byte) frame.type()).put((byte) frame.flags());
        return h.flip();
    }

    /**
     * Writes one frame (header and payload) completely.
     *
     * @param channel a blocking channel
     * @param frame   the frame
     * @throws TtrpcException RESOURCE_EXHAUSTED ({@link #oversizeMessage}) if the payload exceeds
     *                        {@link #MAX_PAYLOAD}; nothing is written then
     * @throws IOException    if the channel fails
     */
    public static void write(GatheringByteChannel channel, Frame frame) throws IOException {
        if (frame.length() > MAX_PAYLOAD) {
            throw new TtrpcException(Code.RESOURCE_EXHAUSTED, oversizeMessage(frame.length()));
        }
        ByteBuffer[] parts = {header(frame), ByteBuffer.wrap(frame.payload())};
        long remaining = HEADER_LENGTH + (long) frame.length();
        while (remaining > 0) {
            remaining -= channel.write(parts);
        }
    }

    /**
     * Encodes a whole frame (header and the message's bytes) into one array, with no intermediate copy.
     *
     * @param streamId stream id
     * @param type     message type
     * @param message  the payload message; its serialized size must not exceed {@link #MAX_PAYLOAD}
     * @return {@code HEADER_LENGTH + size} bytes, ready for one write
     */
    static byte[] encode(int streamId, int type, MessageLite message) {
        int size = message.getSerializedSize();
        byte[] out = new byte[HEADER_LENGTH + size];
        ByteBuffer.wrap(out).putInt(size).putInt(streamId).put((byte) type).put((byte) 0);
        try {
            CodedOutputStream cos = CodedOutputStream.newInstance(out, HEADER_LENGTH, size);
            message.writeTo(cos);
            cos.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new IllegalStateException("ttrpc: encoding " + message.getClass().getSimpleName() + " failed", e);
        }
        return out;
    }

    /**
     * Writes bytes completely.
     *
     * @param channel a blocking channel
     * @param bytes   e.g. from {@link #encode}
     * @throws IOException if the channel fails
     */
    static void writeFully(GatheringByteChannel channel, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            channel.write(b);
        }
    }

    /**
     * Reads one frame.
     *
     * @param channel a blocking channel
     * @return the frame; an {@link Oversized} record if the payload exceeded {@link #MAX_PAYLOAD} (its bytes
     *         were consumed); {@code null} if the channel ended cleanly before the first header byte
     * @throws EOFException if the channel ended inside a header or payload (a short or truncated frame)
     * @throws IOException  if the channel fails
     */
    public static Received read(ReadableByteChannel channel) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.BIG_ENDIAN);
        while (h.hasRemaining()) {
            if (channel.read(h) < 0) {
                if (h.position() == 0) {
                    return null;
                }
                throw new EOFException("ttrpc: short frame header: " + h.position() + " of " + HEADER_LENGTH + " bytes");
            }
        }
        h.flip();
        long length = Integer.toUnsignedLong(h.getInt());
        int streamId = h.getInt();
        int type = Byte.toUnsignedInt(h.get());
        int flags = Byte.toUnsignedInt(h.get());
        if (length > MAX_PAYLOAD) {
            discard(channel, length);
            return new Oversized(length, streamId, type, flags);
        }
        ByteBuffer p = ByteBuffer.allocate((int) length);
        while (p.hasRemaining()) {
            if (channel.read(p) < 0) {
                throw new EOFException("ttrpc: truncated frame payload: " + p.position() + " of " + length + " bytes");
            }
        }
        return new Frame((int) length, streamId, type, flags, p.array());
    }

    private static void discard(ReadableByteChannel channel, long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate(DISCARD_CHUNK);
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(DISCARD_CHUNK, left));
            int n = channel.read(scratch);
            if (n < 0) {
                throw new EOFException("ttrpc: truncated oversize frame payload: " + (length - left) + " of " + length + " bytes");
            }
            left -= n;
        }
    }
}
