package dev.podvisor.sandbox;

import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;

import java.time.Duration;

/**
 * When the guest agent counts as gone. Teardown (RemoveContainer, DestroySandbox) must never depend on the VM
 * being alive (issue 8, case 1): like runc-v2, whose delete of a container whose process is gone still
 * succeeds, an agent that cannot be reached means its containers are gone, and the host side is undone anyway.
 */
final class AgentFaults {

    /** Deadline of one teardown call to the agent; an agent silent for that long is treated as gone. */
    static final Duration TEARDOWN_CALL = Duration.ofSeconds(5);

    private AgentFaults() {
    }

    /**
     * @param e  what an agent call threw
     * @param vm the sandbox's VM
     * @return true when the connection is closed ({@code UNAVAILABLE}), the call ran out of time
     *         ({@code DEADLINE_EXCEEDED}), or the VMM process is dead, whatever the code
     */
    static boolean unreachable(TtrpcException e, VirtualMachine vm) {
        return e.code() == Code.UNAVAILABLE || e.code() == Code.DEADLINE_EXCEEDED || !vm.isAlive();
    }
}
