package dev.podvisor.sandbox.network;

/**
 * A route of the pod's main table through one of its interfaces, in the form Kata's agent takes it
 * ({@code types.Route}).
 *
 * @param dest    the destination as CIDR ({@code 10.1.0.0/16}, a host route as {@code /32} or {@code /128}), or
 *                empty for the default route
 * @param gateway the gateway address, or empty
 * @param device  the interface name in the pod netns (the guest NIC gets the same name)
 * @param source  the preferred source address, or empty
 * @param scope   the netlink scope ({@code RT_SCOPE_UNIVERSE} 0, {@code LINK} 253, {@code HOST} 254)
 * @param v6      IPv6 route
 * @param flags   netlink next-hop flags ({@code RTNH_F_ONLINK} 4, ...)
 * @param mtu     the route's MTU metric, 0 when none (Cilium sets one; Kata 3.20+)
 */
public record NetRoute(String dest, String gateway, String device, String source, int scope, boolean v6, int flags,
                       int mtu) {
}
