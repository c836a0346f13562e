package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.podvisor.protocols.ttrpc.wire.Request;
import dev.podvisor.protocols.ttrpc.wire.Response;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** Unix-socket and raw-frame helpers for the ttrpc tests. */
final class Sockets {
    private Sockets() {
    }

    static ServerSocketChannel listen(Path socket) {
        try {
            ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            l.bind(UnixDomainSocketAddress.of(socket));
            return l;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static SocketChannel connect(Path socket) {
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void writeRaw(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    static void sendRequest(SocketChannel ch, int streamId, Request request) throws IOException {
        FrameCodec.write(ch, new Frame(streamId, Frame.TYPE_REQUEST, 0, request.toByteArray()));
    }

    static Frame readFrame(SocketChannel ch) throws IOException {
        FrameCodec.Received r = FrameCodec.read(ch);
        if (!(r instanceof Frame f)) {
            throw new AssertionError("expected a frame, got " + r);
        }
        return f;
    }

    static Response readResponse(SocketChannel ch, int expectedStreamId) throws IOException {
        Frame f = readFrame(ch);
        if (f.type() != Frame.TYPE_RESPONSE || f.streamId() != expectedStreamId || f.flags() != 0) {
            throw new AssertionError("expected Response on stream " + expectedStreamId + ", got " + f);
        }
        try {
            return Response.parseFrom(f.payload());
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /** True once the peer has closed: read returns end-of-stream (or the connection was reset). */
    static boolean peerClosed(SocketChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(64);
            while (true) {
                int n = ch.read(b);
                if (n < 0) {
                    return true;
                }
                b.clear();
            }
        } catch (IOException e) {
            return true;
        }
    }
}
