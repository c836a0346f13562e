package dev.podvisor.sandbox;

import dev.podvisor.sandbox.config.PodvisorConfig;

import java.time.Duration;

/**
 * The bounds of a pod start, derived from the configuration with Kata's names instead of fixed values, so that a
 * machine slow enough to need more time gets it from its operator's configuration (issue 12: on a loaded machine 8
 * of 20 pods failed on fixed 10 s waits):
 * <ul>
 *   <li>{@code processStart}, the wait for a started virtiofsd's socket and for Cloud Hypervisor's API to answer
 *       {@code vmm.ping}: {@code [agent.kata] dial_timeout}, Kata's budget for the guest to come up (Kata Go dials
 *       the agent for that long after {@code vm.boot}; a VMM or virtiofsd slower than the whole guest boot is not
 *       coming). Both waits also end at once when the process exits;</li>
 *   <li>{@code agentCall}, the deadline of each agent request: {@code [runtime] create_container_timeout}, the
 *       deadline Kata gives CreateContainer, its slowest request (kata-containers: src/runtime/virtcontainers/
 *       kata_agent.go {@code createContainerRequestTimeout}).</li>
 * </ul>
 *
 * @param processStart bound of the VMM's and virtiofsd's start, positive
 * @param agentCall    deadline of one agent request, positive
 */
public record StartTimeouts(Duration processStart, Duration agentCall) {

    /**
     * The bounds for a sandbox with this configuration.
     *
     * @throws IllegalArgumentException naming the key when a value is not positive
     */
    public static StartTimeouts of(PodvisorConfig config) {
        Duration dial = config.agent().dialTimeout();
        Duration create = config.runtime().createContainerTimeout();
        if (dial.isZero() || dial.isNegative()) {
            throw new IllegalArgumentException("[agent.kata] dial_timeout = " + dial.toSeconds() + ": must be positive");
        }
        if (create.isZero() || create.isNegative()) {
            throw new IllegalArgumentException("[runtime] create_container_timeout = " + create.toSeconds()
                    + ": must be positive");
        }
        return new StartTimeouts(dial, create);
    }
}
