package dev.podvisor.sandbox.network;

import com.fasterxml.jackson.databind.JsonNode;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns iproute2's JSON dumps of a pod netns into {@link Endpoint}s, with Kata Go's rules
 * ({@code network_linux.go addAllEndpoints}, {@code network.go generateVCNetworkStructures}):
 * <ul>
 *   <li>loopback links are skipped, and so are links without any address (gre0, sit0, a tap Podvisor made);</li>
 *   <li>a {@code veth}, or a link without a kind ({@code device}, e.g. an SR-IOV netdev), becomes an endpoint;
 *       any other kind fails with "Unsupported network interface";</li>
 *   <li>endpoint {@code i} (in link order) gets {@code tap<i>_kata}; the endpoints are sorted by name;</li>
 *   <li>addresses: all but loopback ones (IPv6 link-local included); routes: those of the link in the main
 *       table, unicast, without {@code proto kernel}; neighbours: those with a MAC that are
 *       {@code PERMANENT}, or are a default gateway of the link in state {@code REACHABLE}.</li>
 * </ul>
 * Inputs are the outputs of {@code ip -j -d link show}, {@code ip -j addr show},
 * {@code ip -j -4 route show table main}, {@code ip -j -6 route show table main} and {@code ip -j neigh show}.
 */
public final class IpJson {

    private static final Map<String, Integer> SCOPES = Map.of("global", 0, "universe", 0, "site", 200,
            "link", 253, "host", 254, "nowhere", 255);
    private static final Map<String, Integer> NEXTHOP_FLAGS = Map.of("dead", 1, "pervasive", 2, "onlink", 4,
            "offload", 8, "linkdown", 16, "unresolved", 32, "trap", 64);
    private static final Map<String, Integer> NUD_STATES = Map.of("INCOMPLETE", 0x01, "REACHABLE", 0x02,
            "STALE", 0x04, "DELAY", 0x08, "PROBE", 0x10, "FAILED", 0x20, "NOARP", 0x40, "PERMANENT", 0x80);
    /** {@code NUD_REACHABLE}. */
    public static final int NUD_REACHABLE = 0x02;
    /** {@code NUD_PERMANENT}. */
    public static final int NUD_PERMANENT = 0x80;
    /** {@code NTF_PROXY}. */
    public static final int NTF_PROXY = 0x08;
    /** {@code NTF_ROUTER}. */
    public static final int NTF_ROUTER = 0x80;

    private IpJson() {
    }

    /**
     * The endpoints of one netns.
     *
     * @param where names the netns in error messages
     * @throws NetworkException for an unsupported link kind (naming link and kind) or unparsable JSON
     */
    public static List<Endpoint> endpoints(String where, String links, String addrs, String routes4, String routes6,
                                           String neighbours) {
        JsonNode linkList = parse(where, "ip -j -d link show", links);
        JsonNode addrList = parse(where, "ip -j addr show", addrs);
        List<JsonNode> routeList = new ArrayList<>();
        parse(where, "ip -j -4 route show table main", routes4).forEach(routeList::add);
        List<JsonNode> route6List = new ArrayList<>();
        parse(where, "ip -j -6 route show table main", routes6).forEach(route6List::add);
        JsonNode neighList = parse(where, "ip -j neigh show", neighbours);

        List<Endpoint> endpoints = new ArrayList<>();
        for (JsonNode link : linkList) {
            String name = link.path("ifname").asText();
            if (isLoopback(link)) {
                continue;
            }
            List<NetAddress> addresses = addresses(addrList, name);
            if (addresses.isEmpty()) {
                continue;
            }
            String kind = link.path("linkinfo").path("info_kind").asText("");
            if (kind.isEmpty()) {
                kind = "device";
            } else if (!kind.equals("veth")) {
                throw new NetworkException("Unsupported network interface: " + name + " in " + where + " is of kind "
                        + kind + " (Podvisor's tcfilter model supports veth and plain devices)");
            }
            List<NetRoute> routes = new ArrayList<>();
            routeList.forEach(r -> route(r, name, false).ifPresent(routes::add));
            route6List.forEach(r -> route(r, name, true).ifPresent(routes::add));
            Set<String> gateways = new java.util.HashSet<>();
            routes.stream().filter(r -> r.dest().isEmpty() && !r.gateway().isEmpty())
                    .forEach(r -> gateways.add(r.gateway()));
            List<NetNeighbour> neighs = new ArrayList<>();
            for (JsonNode n : neighList) {
                neighbour(n, name, gateways).ifPresent(neighs::add);
            }
            endpoints.add(new Endpoint(endpoints.size(), name, kind, link.path("address").asText(),
                    link.path("mtu").asInt(), hasFlag(link, "NOARP"), addresses, routes, neighs));
        }
        endpoints.sort(Comparator.comparing(Endpoint::name));
        return endpoints;
    }

    private static JsonNode parse(String where, String command, String text) {
        if (text == null || text.isBlank()) {
            return JsonTrees.NODES.arrayNode();
        }
        try {
            JsonNode node = JsonTrees.parse(text);
            if (!node.isArray()) {
                throw new NetworkException(where + ": " + command + ": expected a JSON array, got " + node.getNodeType());
            }
            return node;
        } catch (IOException e) {
            throw new NetworkException(where + ": " + command + ": unparsable output: " + e.getMessage(), e);
        }
    }

    private static boolean isLoopback(JsonNode link) {
        return link.path("link_type").asText().equals("loopback") || hasFlag(link, "LOOPBACK");
    }

    private static boolean hasFlag(JsonNode link, String flag) {
        for (JsonNode f : link.path("flags")) {
            if (f.asText().equals(flag)) {
                return true;
            }
        }
        return false;
    }

    private static List<NetAddress> addresses(JsonNode addrList, String name) {
        List<NetAddress> out = new ArrayList<>();
        for (JsonNode link : addrList) {
            if (!link.path("ifname").asText().equals(name)) {
                continue;
            }
            for (JsonNode a : link.path("addr_info")) {
                String family = a.path("family").asText();
                String local = a.path("local").asText("");
                if (local.isEmpty() || !(family.equals("inet") || family.equals("inet6"))) {
                    continue;
                }
                boolean v6 = family.equals("inet6");
                if (v6 ? local.equals("::1") : local.startsWith("127.")) {
                    continue;
                }
                out.add(new NetAddress(v6, local, a.path("prefixlen").asInt()));
            }
        }
        return out;
    }

    private static java.util.Optional<NetRoute> route(JsonNode r, String name, boolean v6) {
        if (!r.path("dev").asText().equals(name)
                || r.path("protocol").asText().equals("kernel")
                || !r.path("type").asText("unicast").equals("unicast")
                || !r.path("table").asText("main").equals("main")) {
            return java.util.Optional.empty();
        }
        String dst = r.path("dst").asText("");
        String dest = dst.equals("default") || dst.isEmpty() ? "" : dst.contains("/") ? dst : dst + (v6 ? "/128" : "/32");
        int flags = 0;
        for (JsonNode f : r.path("flags")) {
            flags |= NEXTHOP_FLAGS.getOrDefault(f.asText(), 0);
        }
        return java.util.Optional.of(new NetRoute(dest, r.path("gateway").asText(""), name,
                r.path("prefsrc").asText(""), scope(r.path("scope").asText("global")), v6, flags, mtu(r.path("metrics"))));
    }

    private static int scope(String text) {
        Integer known = SCOPES.get(text);
        if (known != null) {
            return known;
        }
        try {
            return Integer.parseInt(text);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The {@code mtu} metric: {@code "metrics":[{"mtu":1400}]} (or an object), 0 when absent. */
    private static int mtu(JsonNode metrics) {
        if (metrics.isArray()) {
            for (JsonNode m : metrics) {
                if (m.path("mtu").isInt()) {
                    return m.path("mtu").asInt();
                }
            }
        }
        return metrics.path("mtu").isInt() ? metrics.path("mtu").asInt() : 0;
    }

    private static java.util.Optional<NetNeighbour> neighbour(JsonNode n, String name, Set<String> gateways) {
        String lladdr = n.path("lladdr").asText("");
        if (!n.path("dev").asText().equals(name) || lladdr.isEmpty()) {
            return java.util.Optional.empty();
        }
        String ip = n.path("dst").asText();
        int state = 0;
        for (JsonNode s : n.path("state")) {
            state |= NUD_STATES.getOrDefault(s.asText(), 0);
        }
        boolean keep = (state & NUD_PERMANENT) != 0 || (gateways.contains(ip) && (state & NUD_REACHABLE) != 0);
        if (!keep) {
            return java.util.Optional.empty();
        }
        int flags = (n.has("router") ? NTF_ROUTER : 0) | (n.has("proxy") ? NTF_PROXY : 0);
        return java.util.Optional.of(new NetNeighbour(ip, ip.contains(":"), name, lladdr, state, flags));
    }
}
