package dev.podvisor.shim;

import com.google.protobuf.Message;
import dev.podvisor.protocols.containerd.events.TaskCheckpointed;
import dev.podvisor.protocols.containerd.events.TaskCreate;
import dev.podvisor.protocols.containerd.events.TaskDelete;
import dev.podvisor.protocols.containerd.events.TaskExecAdded;
import dev.podvisor.protocols.containerd.events.TaskExecStarted;
import dev.podvisor.protocols.containerd.events.TaskExit;
import dev.podvisor.protocols.containerd.events.TaskOOM;
import dev.podvisor.protocols.containerd.events.TaskPaused;
import dev.podvisor.protocols.containerd.events.TaskResumed;
import dev.podvisor.protocols.containerd.events.TaskStart;

/**
 * The protobuf full names of the task events a shim publishes, the type URL of the event's Any in containerd's
 * envelope (containerd api/events/task.proto, package {@code containerd.events}: {@code containerd.events.TaskExit}).
 * Written out rather than read from {@code getDescriptorForType()}: building the events' descriptors loads
 * protobuf-java's {@code DescriptorProtos}, which every shim would then map and hold (its AOT cache links what
 * the training loads); {@code EventTypesTest} checks each name against the descriptor's.
 */
final class EventTypes {

    private EventTypes() {
    }

    /**
     * @param event a task event message
     * @return its full name, e.g. {@code containerd.events.TaskCreate}; for a message that is no task event (none is
     *         published today) the descriptor's full name, which loads the descriptor machinery
     */
    static String fullName(Message event) {
        if (event instanceof TaskExit) {
            return "containerd.events.TaskExit";
        } else if (event instanceof TaskCreate) {
            return "containerd.events.TaskCreate";
        } else if (event instanceof TaskStart) {
            return "containerd.events.TaskStart";
        } else if (event instanceof TaskDelete) {
            return "containerd.events.TaskDelete";
        } else if (event instanceof TaskExecAdded) {
            return "containerd.events.TaskExecAdded";
        } else if (event instanceof TaskExecStarted) {
            return "containerd.events.TaskExecStarted";
        } else if (event instanceof TaskOOM) {
            return "containerd.events.TaskOOM";
        } else if (event instanceof TaskPaused) {
            return "containerd.events.TaskPaused";
        } else if (event instanceof TaskResumed) {
            return "containerd.events.TaskResumed";
        } else if (event instanceof TaskCheckpointed) {
            return "containerd.events.TaskCheckpointed";
        }
        return event.getDescriptorForType().getFullName();
    }

    /** The message name without its package ({@code TaskExit}), for logs. */
    static String shortName(String fullName) {
        return fullName.substring(fullName.lastIndexOf('.') + 1);
    }
}
