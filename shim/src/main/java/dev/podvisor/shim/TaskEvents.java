package dev.podvisor.shim;

import com.google.protobuf.Message;

/** Where the Task service sends task events (containerd, or a test's list). */
@FunctionalInterface
public interface TaskEvents {

    /** Queues one event for {@code topic} (e.g. {@code /tasks/exit}); never blocks, never throws. */
    void publish(String topic, Message event);
}
