package dev.podvisor.protocols.ttrpc;

import java.util.Arrays;
import java.util.Objects;

/**
 * One ttrpc frame: a 10-byte big-endian header ({@code length} uint32 = payload bytes, {@code streamId}
 * uint32, {@code type} uint8, {@code flags} uint8) followed by the payload (containerd/ttrpc channel.go,
 * PROTOCOL.md).
 *
 * @param length   payload length in bytes; always {@code payload.length}
 * @param streamId stream id (uint32 bits; client streams are odd)
 * @param type     message type 0..255: {@link #TYPE_REQUEST}, {@link #TYPE_RESPONSE}, {@link #TYPE_DATA}
 *                 (others are ignored by receivers)
 * @param flags    flag bits 0..255: {@link #FLAG_REMOTE_CLOSED}, {@link #FLAG_REMOTE_OPEN}, {@link #FLAG_NO_DATA}
 * @param payload  the payload (a protobuf Request or Response for the unary calls used here)
 */
public record Frame(int length, int streamId, int type, int flags, byte[] payload) implements FrameCodec.Received {
    /** Message type 0x1: a Request. */
    public static final int TYPE_REQUEST = 1;
    /** Message type 0x2: a Response. */
    public static final int TYPE_RESPONSE = 2;
    /** Message type 0x3: Data on a stream. */
    public static final int TYPE_DATA = 3;
    /** Flag 0x1: the sender closed its side of the stream. */
    public static final int FLAG_REMOTE_CLOSED = 1;
    /** Flag 0x2: the sender keeps the stream open for Data (Request only). */
    public static final int FLAG_REMOTE_OPEN = 2;
    /** Flag 0x4: the Data frame carries no message (Data only). */
    public static final int FLAG_NO_DATA = 4;

    /**
     * @throws NullPointerException     if payload is null
     * @throws IllegalArgumentException if length differs from payload.length, or type/flags are outside 0..255
     */
    public Frame {
        Objects.requireNonNull(payload, "payload");
        if (length != payload.length) {
            throw new IllegalArgumentException("frame length: " + length + " but payload has " + payload.length + " bytes");
        }
        if (type < 0 || type > 0xff) {
            throw new IllegalArgumentException("frame type: " + type + " is not a uint8");
        }
        if (flags < 0 || flags > 0xff) {
            throw new IllegalArgumentException("frame flags: " + flags + " is not a uint8");
        }
    }

    /**
     * A frame whose length is taken from the payload.
     *
     * @throws IllegalArgumentException as the canonical constructor
     */
    public Frame(int streamId, int type, int flags, byte[] payload) {
        this(payload.length, streamId, type, flags, payload);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frame f && f.length == length && f.streamId == streamId && f.type == type
                && f.flags == flags && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(length, streamId, type, flags, Arrays.hashCode(payload));
    }

    @Override
    public String toString() {
        return "Frame[length=" + length + ", streamId=" + Integer.toUnsignedString(streamId) + ", type=" + type
                + ", flags=" + flags + "]";
    }
}
