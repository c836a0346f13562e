package dev.podvisor.shim;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.Envelope;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.ForwardRequest;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Sends task events to containerd the way containerd's Go shim library does (pkg/shim/publisher.go): a ttrpc
 * call {@code containerd.services.events.ttrpc.v1.Events/Forward} on the socket named by {@code TTRPC_ADDRESS},
 * in publication order, from one background virtual thread; each try has a 5 s deadline, a failed send is
 * retried up to 5 times with a growing pause and a fresh connection. The event's Any carries the bare type
 * name ({@code containerd.events.TaskExit}), as containerd expects, written out per event type
 * ({@link EventTypes}). Without {@code TTRPC_ADDRESS} (CRI-O) events are only logged, as Kata does.
 */
public final class EventPublisher implements TaskEvents, AutoCloseable {

    /** Topics, containerd: core/runtime/events.go. */
    public static final String TASK_CREATE = "/tasks/create", TASK_START = "/tasks/start", TASK_EXIT = "/tasks/exit",
            TASK_DELETE = "/tasks/delete", TASK_OOM = "/tasks/oom", TASK_EXEC_ADDED = "/tasks/exec-added",
            TASK_EXEC_STARTED = "/tasks/exec-started", TASK_PAUSED = "/tasks/paused", TASK_RESUMED = "/tasks/resumed";

    private static final Duration TRY_TIMEOUT = Duration.ofSeconds(5);
    private static final int MAX_TRIES = 5;

    private record Pending(String topic, Envelope envelope) {
    }

    private final Path socket;
    private final String namespace;
    private final LogfmtLog log;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread sender;
    private TtrpcClient client;
    private volatile boolean closed;

    /**
     * @param ttrpcAddress containerd's ttrpc socket ({@code TTRPC_ADDRESS}), or null/empty to only log
     * @param namespace    the containerd namespace every envelope carries
     */
    public EventPublisher(String ttrpcAddress, String namespace, LogfmtLog log) {
        this.socket = ttrpcAddress == null || ttrpcAddress.isEmpty() ? null
                : Path.of(ttrpcAddress.startsWith("unix://") ? ttrpcAddress.substring(7) : ttrpcAddress);
        this.namespace = namespace;
        this.log = log;
        this.sender = Thread.ofVirtual().name("event-publisher").start(this::run);
    }

    /** Queues an event; never blocks and never throws. */
    @Override
    public void publish(String topic, Message event) {
        Instant now = Instant.now();
        String type = EventTypes.fullName(event);
        Envelope envelope = Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .setNamespace(namespace)
                .setTopic(topic)
                .setEvent(Any.newBuilder().setTypeUrl(type)
                        .setValue(event.toByteString()))
                .build();
        log.debug("publish event", "topic", topic, "event", EventTypes.shortName(type));
        queue.add(new Pending(topic, envelope));
    }

    /** Waits (bounded) until queued events are sent, then stops the sender. */
    @Override
    public void close() {
        closed = true;
        queue.add(new Pending("", null));
        try {
            sender.join(Duration.ofSeconds(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        sender.interrupt();
        if (client != null) {
            client.close();
        }
    }

    private void run() {
        while (true) {
            Pending pending;
            try {
                pending = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (pending.envelope() == null) {
                if (closed && queue.isEmpty()) {
                    return;
                }
                continue;
            }
            if (socket != null) {
                send(pending);
            }
        }
    }

    private void send(Pending pending) {
        ForwardRequest request = ForwardRequest.newBuilder().setEnvelope(pending.envelope()).build();
        for (int attempt = 1; attempt <= MAX_TRIES; attempt++) {
            try {
                if (client == null) {
                    SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                    channel.connect(UnixDomainSocketAddress.of(socket));
                    client = TtrpcClient.over(channel);
                }
                client.call("containerd.services.events.ttrpc.v1.Events", "Forward", request, Empty.parser(), TRY_TIMEOUT);
                return;
            } catch (IOException | TtrpcException e) {
                log.warn("publish event failed", "topic", pending.topic(), "attempt", attempt, "error", e.getMessage());
                if (client != null) {
                    client.close();
                    client = null;
                }
                try {
                    Thread.sleep(Duration.ofMillis(100L * attempt));
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
        log.error("event dropped after retries", "topic", pending.topic());
    }
}
