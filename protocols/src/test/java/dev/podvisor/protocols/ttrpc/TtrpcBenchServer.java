package dev.podvisor.protocols.ttrpc;

import com.google.protobuf.Empty;
import dev.podvisor.protocols.containerd.task.v2.ConnectRequest;
import dev.podvisor.protocols.containerd.task.v2.ConnectResponse;
import dev.podvisor.protocols.containerd.task.v2.ShutdownRequest;
import dev.podvisor.protocols.containerd.task.v2.StateRequest;
import dev.podvisor.protocols.containerd.task.v2.StateResponse;
import dev.podvisor.protocols.containerd.types.task.Status;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * Benchmark and conformance target, not a test: serves the same stub of {@code containerd.task.v2.Task} as the
 * Go reference server {@code gosrv} (/work/shared/tools/ttrpc) with {@link TtrpcServer}, so that {@code golat}
 * and {@code conformance.py} can be pointed at both.
 *
 * <p>Usage: {@code java -cp <test classpath> dev.podvisor.protocols.ttrpc.TtrpcBenchServer SOCKET}. State answers
 * NOT_FOUND for id {@code does-not-exist}, else {id, pid=4242, RUNNING}; Connect and Shutdown answer canned
 * messages. State is registered with
 * {@link TtrpcService.Builder#unaryInline} unless {@code -Dbench.inline=false};
 * readers are platform threads unless {@code -Dbench.platformReaders=false}. Prints "listening on SOCKET"; runs
 * until killed.
 */
public final class TtrpcBenchServer {
    private TtrpcBenchServer() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: TtrpcBenchServer SOCKET");
            System.exit(2);
        }
        Path socket = Path.of(args[0]);
        Files.deleteIfExists(socket);
        TtrpcService.Builder b = TtrpcService.builder("containerd.task.v2.Task");
        boolean inline = Boolean.parseBoolean(System.getProperty("bench.inline", "true"));
        (inline ? b.unaryInline("State", StateRequest.parser(), TtrpcBenchServer::state)
                : b.unary("State", StateRequest.parser(), TtrpcBenchServer::state))
                .unary("Connect", ConnectRequest.parser(), (ctx, r) -> ConnectResponse.newBuilder()
                        .setShimPid((int) ProcessHandle.current().pid()).setVersion("podvisor-bench").build())
                .unary("Shutdown", ShutdownRequest.parser(), (ctx, r) -> Empty.getDefaultInstance());
        TtrpcService task = b.build();
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        TtrpcServer server = TtrpcServer.builder().service(task)
                .platformReaders(Boolean.parseBoolean(System.getProperty("bench.platformReaders", "true"))).build();
        server.serve(listener);
        System.out.println("listening on " + socket);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            try {
                Files.deleteIfExists(socket);
            } catch (java.io.IOException ignored) {
                // best effort
            }
        }));
        new CountDownLatch(1).await();
    }

    private static StateResponse state(CallContext ctx, StateRequest r) {
        if (r.getId().equals("does-not-exist")) {
            throw new TtrpcException(Code.NOT_FOUND, "task " + r.getId() + ": not found");
        }
        return StateResponse.newBuilder().setId(r.getId()).setPid(4242).setStatus(Status.RUNNING).build();
    }
}
