package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProcessIo's stdout copier ends on both end-of-output answers an agent gives: OK with no data (kata-agent
 * 3.27.0 and later) and an error (older agents). Served by a small ttrpc agent on a temp unix socket.
 */
class ProcessIoTest {

    @TempDir
    Path dir;

    /** An agent whose ReadStdout hands out {@code chunks} in order, then {@code end} forever. */
    private record FakeAgent(TtrpcServer server, AgentClient client, AtomicInteger stdoutReads) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            server.close();
        }
    }

    private FakeAgent agent(List<String> chunks, TtrpcException end) throws Exception {
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(chunks);
        AtomicInteger reads = new AtomicInteger();
        TtrpcService service = TtrpcService.builder("grpc.AgentService")
                .unary("ReadStdout", ReadStreamRequest.parser(), (ctx, req) -> {
                    reads.incrementAndGet();
                    String next = queue.poll();
                    if (next != null) {
                        return ReadStreamResponse.newBuilder().setData(ByteString.copyFromUtf8(next)).build();
                    }
                    if (end != null) {
                        throw end;
                    }
                    return ReadStreamResponse.getDefaultInstance();
                })
                .unary("ReadStderr", ReadStreamRequest.parser(), (ctx, req) -> ReadStreamResponse.getDefaultInstance())
                .build();
        TtrpcServer server = TtrpcServer.builder().service(service).build();
        Path sock = dir.resolve("agent.sock");
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(sock));
        server.serve(listener);
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(sock));
        return new FakeAgent(server, new AgentClient(TtrpcClient.over(channel), Duration.ofSeconds(10)), reads);
    }

    private String copy(FakeAgent agent) throws Exception {
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        ProcessIo io = new ProcessIo(agent.client(), "c1", "c1", new ProcessStdio("", out.toString(), "", false),
                LogfmtLog.discard());
        io.start();
        assertTrue(io.awaitOutput(Duration.ofSeconds(20)), "the copiers did not finish");
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    @Test
    void stdoutEndsOnAnOkAnswerWithNoData() throws Exception {
        try (FakeAgent agent = agent(List.of("hello ", "world\n"), null)) {
            assertEquals("hello world\n", copy(agent));
            assertEquals(3, agent.stdoutReads().get(), "two chunks, then one empty answer ends the stream");
        }
    }

    @Test
    void stdoutEndsOnAnErrorAnswerAsFromOlderAgents() throws Exception {
        try (FakeAgent agent = agent(List.of("hi\n"), new TtrpcException(Code.INTERNAL, "read meet eof"))) {
            assertEquals("hi\n", copy(agent));
            assertEquals(2, agent.stdoutReads().get());
        }
    }
}
