package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.CloseStdinRequest;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.WriteStreamRequest;
import dev.podvisor.protocols.agent.WriteStreamResponse;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ProcessIo's stdout copier ends on both end-of-output answers an agent gives: OK with no data (kata-agent
 * 3.27.0 and later) and an error (older agents); its stdin copier forwards everything a client wrote before
 * {@code CloseIO}, then closes the guest's stdin. Served by a small ttrpc agent on a temp unix socket.
 */
class ProcessIoTest {

    @TempDir
    Path dir;

    /** An agent whose ReadStdout hands out {@code chunks} in order, then {@code end} forever. */
    private record FakeAgent(TtrpcServer server, AgentClient client, AtomicInteger stdoutReads,
            StringBuffer stdinLog) implements AutoCloseable {
        @Override
        public void close() {
            client.close();
            server.close();
        }
    }

    private FakeAgent agent(List<String> chunks, TtrpcException end) throws Exception {
        ConcurrentLinkedQueue<String> queue = new ConcurrentLinkedQueue<>(chunks);
        AtomicInteger reads = new AtomicInteger();
        StringBuffer stdinLog = new StringBuffer();
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
                .unary("WriteStdin", WriteStreamRequest.parser(), (ctx, req) -> {
                    stdinLog.append(req.getData().toStringUtf8());
                    return WriteStreamResponse.newBuilder().setLen(req.getData().size()).build();
                })
                .unary("CloseStdin", CloseStdinRequest.parser(), (ctx, req) -> {
                    stdinLog.append("<closed>");
                    return Empty.getDefaultInstance();
                })
                .build();
        TtrpcServer server = TtrpcServer.builder().service(service).build();
        Path sock = dir.resolve("agent.sock");
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(sock));
        server.serve(listener);
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(sock));
        return new FakeAgent(server, new AgentClient(TtrpcClient.over(channel), Duration.ofSeconds(10)), reads, stdinLog);
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

    @Test
    void stdinWrittenBeforeCloseIoReachesTheGuestBeforeItsStdinCloses() throws Exception {
        Path fifo = dir.resolve("stdin");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path out = dir.resolve("stdout");
        Files.createFile(out);
        try (FakeAgent agent = agent(List.of(), null)) {
            ProcessIo io = new ProcessIo(agent.client(), "c1", "c1",
                    new ProcessStdio(fifo.toString(), out.toString(), "", false), LogfmtLog.discard());
            io.start();
            // ctr's order (StdinCloser): open the FIFO for writing (blocks until the shim reads it), the last
            // bytes in, CloseIO(stdin), then its end closed. Four pipe buffers' worth: when the write returns, up
            // to a pipe buffer (64 KiB) is still unread at CloseIO
            String input = "piped through the VM\n".repeat(4 * 65536 / 21 + 1);
            try (FileChannel client = FileChannel.open(fifo, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(input.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    client.write(bytes);
                }
                io.closeStdin();
                assertFalse(agent.stdinLog().toString().contains("<closed>"),
                        "stdin closes only after the client closed its end");
            }
            assertTrue(io.awaitStdin(Duration.ofSeconds(20)), "the stdin copier did not finish");
            assertEquals(input + "<closed>", agent.stdinLog().toString());
            assertTrue(io.awaitOutput(Duration.ofSeconds(20)), "the output copiers did not finish");
        }
    }

    @Test
    void closeStopsAStdinCopierWaitingOnAnIdleFifoWithoutClosingTheGuestStdin() throws Exception {
        Path fifo = dir.resolve("stdin");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        try (FakeAgent agent = agent(List.of(), null)) {
            ProcessIo io = new ProcessIo(agent.client(), "c1", "c1",
                    new ProcessStdio(fifo.toString(), "", "", false), LogfmtLog.discard());
            io.start();
            io.close();
            assertTrue(io.awaitStdin(Duration.ofSeconds(20)), "close() did not stop the stdin copier");
            assertEquals("", agent.stdinLog().toString());
        }
    }

    @Test
    void outputReachesAClientThatOpensItsFifoOnlyAfterTheProcessEnded() throws Exception {
        Path fifo = dir.resolve("stdout-fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        try (FakeAgent agent = agent(List.of("late reader\n"), null)) {
            ProcessIo io = new ProcessIo(agent.client(), "c1", "e1", new ProcessStdio("", fifo.toString(), "", false),
                    LogfmtLog.discard());
            io.start();
            // ctr task exec opens its FIFOs asynchronously; a quick process can end before that: the output is
            // not done (and the exit not reported) while its bytes wait for a reader
            assertFalse(io.awaitOutput(Duration.ofMillis(200)), "output counted as done with nobody reading it");
            try (FileChannel client = FileChannel.open(fifo, StandardOpenOption.READ)) {
                ByteBuffer all = ByteBuffer.allocate(4096);
                while (client.read(all) >= 0) {
                    // until end of file
                }
                assertEquals("late reader\n", new String(all.array(), 0, all.position(), StandardCharsets.UTF_8));
            }
            assertTrue(io.awaitOutput(Duration.ofSeconds(20)), "the copiers did not finish");
        }
    }
}
