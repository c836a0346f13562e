package dev.podvisor.testbed.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.protocols.agent.ARPNeighbors;
import dev.podvisor.protocols.agent.Interfaces;
import dev.podvisor.protocols.agent.Routes;
import dev.podvisor.protocols.agent.types.ARPNeighbor;
import dev.podvisor.protocols.agent.types.IPAddress;
import dev.podvisor.protocols.agent.types.IPFamily;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.storage.linux.Linux;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The kata-agent's network calls, applied with real {@code ip} (iproute2, i.e. netlink) commands in the
 * guest emulator's own network namespace (the emulator runs in it, so every child process does too):
 * {@code UpdateInterface}, {@code UpdateRoutes}, {@code AddARPNeighbors}, {@code ListInterfaces},
 * {@code ListRoutes}, plus the DNS part of {@code CreateSandbox}. Rules from the agent's {@code rpc.rs} and
 * {@code netlink.rs} / {@code network.rs} ({@code shared/reference/networking.md} §3.4–§3.5).
 *
 * <p>Errors: a link that is not there yet is {@code "Link not found ..."} (Kata Go retries UpdateInterface
 * only on that text); a request field that cannot be applied names the field and value; a failing
 * {@code ip} command is reported with its arguments and stderr (INTERNAL, as the agent maps netlink errors).
 */
final class GuestNetwork {
    /** {@code IFF_NOARP} from {@code <linux/if.h>}. */
    static final int IFF_NOARP = 0x80;
    /** {@code RTNH_F_ONLINK} from {@code <linux/rtnetlink.h>}. */
    static final int RTNH_F_ONLINK = 0x4;
    /** The agent's guest path of the sandbox resolv.conf ({@code network.rs} {@code setup_guest_dns}). */
    static final String SANDBOX_RESOLV = "/run/kata-containers/sandbox/resolv.conf";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Integer> LINK_FLAGS = Map.ofEntries(Map.entry("UP", 0x1),
            Map.entry("BROADCAST", 0x2), Map.entry("DEBUG", 0x4), Map.entry("LOOPBACK", 0x8),
            Map.entry("POINTOPOINT", 0x10), Map.entry("NOTRAILERS", 0x20), Map.entry("RUNNING", 0x40),
            Map.entry("NOARP", 0x80), Map.entry("PROMISC", 0x100), Map.entry("ALLMULTI", 0x200),
            Map.entry("MULTICAST", 0x1000), Map.entry("LOWER_UP", 0x10000), Map.entry("DORMANT", 0x20000));

    private final GuestRoot root;
    private final GuestEvents events;
    private boolean resolvMounted;

    GuestNetwork(GuestRoot root, GuestEvents events) {
        this.root = root;
        this.events = events;
    }

    /** Sets {@code lo} up, as the agent does at start ({@code handle_localhost}). @throws IOException if ip fails */
    static void loopbackUp() throws IOException {
        Commands.check(List.of("ip", "link", "set", "dev", "lo", "up"));
    }

    /**
     * {@code UpdateInterface}: finds the link by {@code hwAddr}, else by {@code name} (then gives it that MAC),
     * sets it down, adds the addresses (IPv6 ones skipped while IPv6 is disabled in the guest), renames it
     * ({@code <name>_temp} for a link that holds the name already, swapped back after), sets MTU, ARP (off
     * when {@code raw_flags} has {@code IFF_NOARP}) and up.
     *
     * @param iface the requested interface
     * @return the interface as requested (what the agent answers)
     * @throws IllegalArgumentException when neither {@code hwAddr} nor {@code name} is given
     * @throws IllegalStateException "Link not found" while no such link exists
     * @throws UncheckedIOException when an {@code ip} command fails
     */
    synchronized Interface updateInterface(Interface iface) {
        if (iface.getHwAddr().isEmpty() && iface.getName().isEmpty()) {
            throw new IllegalArgumentException("interface: hwAddr and name are both empty");
        }
        try {
            List<JsonNode> links = links();
            JsonNode link = find(links, "address", iface.getHwAddr().toLowerCase(Locale.ROOT));
            String dev;
            if (link == null) {
                link = find(links, "ifname", iface.getName());
                if (link == null) {
                    throw new IllegalStateException("Link not found: no link with hwAddr '" + iface.getHwAddr()
                            + "' or name '" + iface.getName() + "'");
                }
                dev = link.get("ifname").asText();
                if (!iface.getHwAddr().isEmpty()) {
                    ip("link", "set", "dev", dev, "address", iface.getHwAddr());
                }
            } else {
                dev = link.get("ifname").asText();
            }
            ip("link", "set", "dev", dev, "down");
            boolean v6 = ipv6Enabled();
            for (IPAddress a : iface.getIPAddressesList()) {
                if (a.getFamily() == IPFamily.v6 && !v6) {
                    events.log("network", Map.of("action", "skip-ipv6", "address", a.getAddress(), "device", dev));
                    continue;
                }
                ip(family(a.getFamily()), "addr", "replace", a.getAddress() + "/" + mask(a), "dev", dev);
            }
            String name = iface.getName().isEmpty() ? dev : iface.getName();
            String temp = null;
            if (!name.equals(dev) && find(links, "ifname", name) != null) {
                temp = name + "_temp";
                ip("link", "set", "dev", name, "name", temp);
            }
            List<String> set = new ArrayList<>(List.of("link", "set", "dev", dev));
            if (iface.getMtu() > 0) {
                set.addAll(List.of("mtu", Long.toString(iface.getMtu())));
            }
            if (!name.equals(dev)) {
                set.addAll(List.of("name", name));
            }
            set.addAll(List.of("arp", (iface.getRawFlags() & IFF_NOARP) != 0 ? "off" : "on", "up"));
            ip(set.toArray(String[]::new));
            if (temp != null) {
                ip("link", "set", "dev", temp, "name", dev);
            }
            events.log("network", Map.of("action", "update-interface", "device", name, "hwAddr", iface.getHwAddr(),
                    "mtu", iface.getMtu(), "addresses", iface.getIPAddressesCount()));
            return iface;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code UpdateRoutes}: routes without a gateway first, then the others; each added (replace semantics)
     * to the main table with protocol {@code boot}, on the link named {@code device}, with the given scope,
     * {@code onlink} flag, source and MTU.
     *
     * @param routes the requested routes
     * @return every route of the main table afterwards ({@link #listRoutes()})
     * @throws UncheckedIOException when a route cannot be added (the ip error names it)
     */
    synchronized Routes updateRoutes(Routes routes) {
        List<Route> ordered = new ArrayList<>(routes.getRoutesList());
        ordered.sort(Comparator.comparing(r -> !r.getGateway().isEmpty()));
        try {
            for (Route r : ordered) {
                List<String> argv = new ArrayList<>(List.of(family(r.getFamily()), "route", "replace",
                        r.getDest().isEmpty() ? "default" : r.getDest()));
                if (!r.getGateway().isEmpty()) {
                    argv.addAll(List.of("via", r.getGateway()));
                }
                if (!r.getDevice().isEmpty()) {
                    argv.addAll(List.of("dev", r.getDevice()));
                }
                if (!r.getSource().isEmpty()) {
                    argv.addAll(List.of("src", r.getSource()));
                }
                argv.addAll(List.of("table", "main", "proto", "boot", "scope", Integer.toString(r.getScope())));
                if (r.getMtu() > 0) {
                    argv.addAll(List.of("mtu", Integer.toString(r.getMtu())));
                }
                if ((r.getFlags() & RTNH_F_ONLINK) != 0) {
                    argv.add("onlink");
                }
                ip(argv.toArray(String[]::new));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        events.log("network", Map.of("action", "update-routes", "count", ordered.size()));
        return listRoutes();
    }

    /**
     * {@code AddARPNeighbors}: each entry added (replace semantics) with its {@code state} (NUD bits) and
     * {@code flags} (NTF bits) on the link named {@code device}.
     *
     * @param neighbors the entries
     * @throws IllegalArgumentException for an entry without an address
     * @throws UncheckedIOException when ip refuses one
     */
    synchronized void addNeighbors(ARPNeighbors neighbors) {
        try {
            for (ARPNeighbor n : neighbors.getARPNeighborsList()) {
                if (!n.hasToIPAddress() || n.getToIPAddress().getAddress().isEmpty()) {
                    throw new IllegalArgumentException("ARPNeighbor.toIPAddress: missing (device '" + n.getDevice() + "')");
                }
                List<String> argv = new ArrayList<>(List.of(family(n.getToIPAddress().getFamily()), "neigh", "replace",
                        n.getToIPAddress().getAddress()));
                if (!n.getLladdr().isEmpty()) {
                    argv.addAll(List.of("lladdr", n.getLladdr()));
                }
                argv.addAll(List.of("dev", n.getDevice(), "nud", NeighborState.name(n.getState())));
                argv.addAll(NeighborState.flags(n.getFlags()));
                ip(argv.toArray(String[]::new));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        events.log("network", Map.of("action", "add-neighbors", "count", neighbors.getARPNeighborsCount()));
    }

    /** {@code ListInterfaces}: every link of the guest with its addresses, MTU, MAC, kind and flags. */
    synchronized Interfaces listInterfaces() {
        try {
            Interfaces.Builder out = Interfaces.newBuilder();
            for (JsonNode l : JSON.readTree(Commands.check(List.of("ip", "-j", "-d", "addr", "show")))) {
                Interface.Builder i = Interface.newBuilder().setDevice(l.get("ifname").asText())
                        .setName(l.get("ifname").asText()).setMtu(l.path("mtu").asLong())
                        .setHwAddr(l.path("address").asText(""))
                        .setType(l.path("linkinfo").path("info_kind").asText(l.path("link_type").asText("")));
                int flags = 0;
                for (JsonNode f : l.path("flags")) {
                    flags |= LINK_FLAGS.getOrDefault(f.asText(), 0);
                }
                i.setRawFlags(flags);
                for (JsonNode a : l.path("addr_info")) {
                    i.addIPAddresses(IPAddress.newBuilder()
                            .setFamily(a.path("family").asText().equals("inet6") ? IPFamily.v6 : IPFamily.v4)
                            .setAddress(a.path("local").asText()).setMask(a.path("prefixlen").asText()));
                }
                out.addInterfaces(i);
            }
            return out.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code ListRoutes}: the main table's IPv4 and IPv6 routes ({@code dest} "" for the default route). */
    synchronized Routes listRoutes() {
        try {
            Routes.Builder out = Routes.newBuilder();
            for (IPFamily f : List.of(IPFamily.v4, IPFamily.v6)) {
                String text = Commands.check(List.of("ip", "-j", "-N", family(f), "route", "show", "table", "main"));
                for (JsonNode r : JSON.readTree(text.isBlank() ? "[]" : text)) {
                    String dst = r.path("dst").asText("");
                    int flags = 0;
                    for (JsonNode fl : r.path("flags")) {
                        flags |= fl.asText().equals("onlink") ? RTNH_F_ONLINK : 0;
                    }
                    out.addRoutes(Route.newBuilder().setDest(dst.equals("default") ? "" : dst)
                            .setGateway(r.path("gateway").asText("")).setDevice(r.path("dev").asText(""))
                            .setSource(r.path("prefsrc").asText("")).setScope(r.path("scope").asInt(0))
                            .setFamily(f).setFlags(flags).setMtu(r.path("metrics").findPath("mtu").asInt(0)));
                }
            }
            return out.build();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The DNS part of {@code CreateSandbox}: with a non-empty list, writes the lines to the guest's
     * {@value #SANDBOX_RESOLV} and bind-mounts it over {@code /etc/resolv.conf} in the emulator's own mount
     * namespace (the guest's view; the host's file is never touched), as the agent's {@code setup_guest_dns}.
     *
     * @param dns the resolv.conf lines
     * @throws UncheckedIOException when the file cannot be written
     */
    synchronized void setupDns(List<String> dns) {
        if (dns.isEmpty()) {
            return;
        }
        Path file = root.host("dns", SANDBOX_RESOLV);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, String.join("\n", dns) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!resolvMounted && Files.exists(Path.of("/etc/resolv.conf"))) {
            Linux.mount(file.toString(), "/etc/resolv.conf", null, Linux.MS_BIND, null);
            resolvMounted = true;
        }
        events.log("network", Map.of("action", "dns", "lines", dns.size(), "file", SANDBOX_RESOLV));
    }

    /** Undoes the {@code /etc/resolv.conf} bind of {@link #setupDns} (guest shutdown). */
    synchronized void release() {
        if (resolvMounted) {
            try {
                Linux.umount2("/etc/resolv.conf", Linux.MNT_DETACH);
            } catch (RuntimeException ignored) {
                // the mount namespace goes with the emulator anyway
            }
            resolvMounted = false;
        }
    }

    private static List<JsonNode> links() throws IOException {
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(Commands.check(List.of("ip", "-j", "link", "show"))).forEach(out::add);
        return out;
    }

    private static JsonNode find(List<JsonNode> links, String field, String value) {
        if (value.isEmpty()) {
            return null;
        }
        for (JsonNode l : links) {
            if (value.equals(l.path(field).asText())) {
                return l;
            }
        }
        return null;
    }

    /** True unless {@code disable_ipv6} is 1 for {@code all} or {@code default} in this network namespace. */
    private static boolean ipv6Enabled() {
        for (String c : List.of("all", "default")) {
            try {
                if (Files.readString(Path.of("/proc/sys/net/ipv6/conf", c, "disable_ipv6")).strip().equals("1")) {
                    return false;
                }
            } catch (IOException e) {
                return false; // no IPv6 in this kernel
            }
        }
        return true;
    }

    private static String family(IPFamily f) {
        return f == IPFamily.v6 ? "-6" : "-4";
    }

    private static String mask(IPAddress a) {
        String m = a.getMask().isEmpty() ? (a.getFamily() == IPFamily.v6 ? "128" : "32") : a.getMask();
        if (!m.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("IPAddress.mask '" + a.getMask() + "' of " + a.getAddress()
                    + ": not a prefix length");
        }
        return m;
    }

    private static void ip(String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("ip"));
        argv.addAll(List.of(args));
        Commands.check(argv);
    }
}
