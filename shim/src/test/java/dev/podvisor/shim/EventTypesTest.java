package dev.podvisor.shim;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Empty;
import com.google.protobuf.Message;
import dev.podvisor.protocols.containerd.events.TaskEventsProto;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.ForwardRequest;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.log.LogfmtLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The event type names written out in {@link EventTypes} are what the events' descriptors say, for every event
 * message of containerd's events/task.proto, and they reach containerd's Forward call as the Any's type URL.
 */
class EventTypesTest {

    @Test
    void everyTaskEventIsNamedAsItsDescriptorNamesIt() throws Exception {
        Map<String, Message> events = allTaskEvents();
        assertEquals(10, events.size(), "task.proto's event messages");
        for (Map.Entry<String, Message> event : events.entrySet()) {
            assertEquals(event.getKey(), EventTypes.fullName(event.getValue()));
            assertEquals(event.getValue().getDescriptorForType().getName(), EventTypes.shortName(event.getKey()));
        }
    }

    @Test
    void publishedEnvelopesCarryTheDescriptorsFullNameAsTypeUrl(@TempDir Path dir) throws Exception {
        LinkedBlockingQueue<ForwardRequest> forwarded = new LinkedBlockingQueue<>();
        Path socket = dir.resolve("events.sock");
        TtrpcServer server = TtrpcServer.builder().service(TtrpcService.builder("containerd.services.events.ttrpc.v1.Events")
                .unary("Forward", ForwardRequest.parser(), (ctx, request) -> {
                    forwarded.add(request);
                    return Empty.getDefaultInstance();
                }).build()).build();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(socket));
            server.serve(listener);
            Map<String, Message> events = allTaskEvents();
            try (EventPublisher publisher = new EventPublisher(socket.toString(), "default", LogfmtLog.discard())) {
                for (Message event : events.values()) {
                    publisher.publish("/tasks/test", event);
                }
                List<String> typeUrls = new ArrayList<>();
                for (int i = 0; i < events.size(); i++) {
                    ForwardRequest request = forwarded.poll(10, TimeUnit.SECONDS);
                    assertNotNull(request, "event " + i + " was not forwarded");
                    typeUrls.add(request.getEnvelope().getEvent().getTypeUrl());
                }
                assertEquals(new ArrayList<>(events.keySet()), typeUrls);
            }
        } finally {
            server.close();
        }
    }

    /** Full name (from the descriptor) → default instance, for every message of task.proto but TaskIO (a part). */
    private static Map<String, Message> allTaskEvents() throws ReflectiveOperationException {
        Map<String, Message> events = new LinkedHashMap<>();
        for (Descriptor type : TaskEventsProto.getDescriptor().getMessageTypes()) {
            if (type.getName().equals("TaskIO")) {
                continue;
            }
            Class<?> generated = Class.forName("dev.podvisor.protocols.containerd.events." + type.getName());
            events.put(type.getFullName(), (Message) generated.getMethod("getDefaultInstance").invoke(null));
        }
        return events;
    }
}
