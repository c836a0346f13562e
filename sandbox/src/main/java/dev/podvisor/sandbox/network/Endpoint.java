package dev.podvisor.sandbox.network;

import java.util.List;

/**
 * One pod interface that becomes a guest NIC (Kata Go {@code VethEndpoint}): what the scan of the pod netns
 * found about it.
 *
 * @param index      Kata's endpoint index: the tap is {@code tap<index>_kata}
 * @param name       the interface name in the pod netns, e.g. {@code eth0}; the guest NIC gets it too
 * @param kind       the netlink link kind: {@code veth} or {@code device} (no kind)
 * @param mac        its MAC address, which the guest NIC takes (the CNI bridge expects frames from it)
 * @param mtu        its MTU, which the tap and the guest NIC take
 * @param noArp      whether it has {@code IFF_NOARP} (the only flag passed to the agent)
 * @param addresses  every address (IPv6 link-local included, as Kata)
 * @param routes     its routes of the main table, without {@code proto kernel} ones
 * @param neighbours the neighbours to pre-seed (Kata's rule, see {@link IpJson})
 */
public record Endpoint(int index, String name, String kind, String mac, int mtu, boolean noArp,
                       List<NetAddress> addresses, List<NetRoute> routes, List<NetNeighbour> neighbours) {

    public Endpoint {
        addresses = List.copyOf(addresses);
        routes = List.copyOf(routes);
        neighbours = List.copyOf(neighbours);
    }

    /** Kata's tap name for this endpoint, {@code tap<index>_kata}. */
    public String tapName() {
        return "tap" + index + "_kata";
    }
}
