package dev.podvisor.sandbox.network;

import java.util.ArrayList;
import java.util.List;

/**
 * What Podvisor created in a pod netns, persisted in the sandbox state so that teardown, a failed start and
 * {@code delete} after a crash undo exactly that, and nothing it did not create.
 *
 * @param netns the pod netns path
 * @param nics  per endpoint, what exists because of Podvisor
 */
public record HostNetwork(String netns, List<Nic> nics) {

    public HostNetwork {
        nics = List.copyOf(nics);
    }

    /**
     * One endpoint's wiring.
     *
     * @param veth       the pod interface (not Podvisor's: never deleted, only its ingress qdisc)
     * @param tap        the tap name
     * @param tapCreated whether the tap exists because of Podvisor (deleting it removes its qdisc and filter)
     * @param vethQdisc  whether the ingress qdisc on the veth was added by Podvisor (deleting it removes the
     *                   veth→tap filter under it)
     */
    public record Nic(String veth, String tap, boolean tapCreated, boolean vethQdisc) {
    }

    /** No wiring yet in {@code netns}. */
    public static HostNetwork empty(String netns) {
        return new HostNetwork(netns, List.of());
    }

    /** This record with {@code nic} replacing the entry of the same tap, or appended. */
    public HostNetwork with(Nic nic) {
        List<Nic> copy = new ArrayList<>(nics);
        copy.removeIf(n -> n.tap().equals(nic.tap()));
        copy.add(nic);
        return new HostNetwork(netns, copy);
    }
}
