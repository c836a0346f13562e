package dev.podvisor.it.cri;

import dev.podvisor.it.cri.api.ImageServiceGrpc;
import dev.podvisor.it.cri.api.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A CRI client as kubelet is one: gRPC ({@code runtime.v1.RuntimeService} and {@code ImageService}) over
 * containerd's unix socket, with grpc-java on Netty's epoll transport ({@link EpollDomainSocketChannel}, one
 * event-loop thread of its own).
 *
 * <pre>{@code
 * try (CriClient cri = CriClient.connect(containerd.address())) {
 *     String version = cri.runtime().version(VersionRequest.getDefaultInstance()).getRuntimeVersion();
 * }
 * }</pre>
 *
 * Every call made through {@link #runtime()} / {@link #images()} has a deadline of {@link #CALL_TIMEOUT}; a
 * failed call throws {@link io.grpc.StatusRuntimeException} with containerd's error text as description.
 * {@link #close()} shuts the channel and the event loop down and waits for both.
 */
public final class CriClient implements AutoCloseable {

    /** Deadline of each call (a pod start through the testbed takes seconds; teardown too). */
    public static final Duration CALL_TIMEOUT = Duration.ofSeconds(120);

    private final EventLoopGroup group;
    private final ManagedChannel channel;

    private CriClient(EventLoopGroup group, ManagedChannel channel) {
        this.group = group;
        this.channel = channel;
    }

    /**
     * Connects (lazily: the first call opens the socket).
     *
     * @param socket containerd's gRPC socket, e.g. {@code PrivateContainerd.address()}
     * @return the client
     */
    public static CriClient connect(Path socket) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toFile()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .overrideAuthority("localhost")
                .maxInboundMessageSize(16 * 1024 * 1024)
                .usePlaintext()
                .build();
        return new CriClient(group, channel);
    }

    /** @return a RuntimeService stub whose calls have a deadline of {@link #CALL_TIMEOUT} from now */
    public RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime() {
        return RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** @return an ImageService stub whose calls have a deadline of {@link #CALL_TIMEOUT} from now */
    public ImageServiceGrpc.ImageServiceBlockingStub images() {
        return ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Closes the channel (waiting up to 10 s for calls in flight) and stops the event-loop thread. */
    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(10, TimeUnit.SECONDS)) {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
