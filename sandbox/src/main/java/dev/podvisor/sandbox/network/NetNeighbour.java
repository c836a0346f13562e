package dev.podvisor.sandbox.network;

/**
 * A neighbour (ARP/NDP) entry to pre-seed in the guest ({@code types.ARPNeighbor}).
 *
 * @param address the neighbour's IP address
 * @param v6      IPv6
 * @param device  the interface name
 * @param lladdr  its MAC address
 * @param state   the raw netlink {@code NUD_*} state ({@code NUD_REACHABLE} 0x02, {@code NUD_PERMANENT} 0x80)
 * @param flags   the raw netlink {@code NTF_*} flags ({@code NTF_ROUTER} 0x80)
 */
public record NetNeighbour(String address, boolean v6, String device, String lladdr, int state, int flags) {
}
