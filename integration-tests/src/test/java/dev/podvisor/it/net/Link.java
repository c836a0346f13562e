package dev.podvisor.it.net;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * One network interface as {@code ip -j -d link} / {@code ip -j addr} show it.
 *
 * @param name      interface name, e.g. {@code eth0}
 * @param mac       MAC address, lower case {@code aa:bb:..}
 * @param mtu       MTU in bytes
 * @param kind      {@code linkinfo.info_kind} with {@code -d} ({@code veth}, {@code tun}, {@code bridge}...), "" if none
 * @param up        whether the UP flag is set
 * @param addresses IPv4/IPv6 addresses as {@code addr/prefix}, when read with {@code ip -j addr}; empty otherwise
 */
public record Link(String name, String mac, int mtu, String kind, boolean up, List<String> addresses) {

    /** Copies the list. */
    public Link {
        addresses = List.copyOf(addresses);
    }

    /**
     * @param node one element of {@code ip -j -d link} or {@code ip -j -d addr} output
     * @return the link
     */
    static Link of(JsonNode node) {
        List<String> addrs = new ArrayList<>();
        for (JsonNode a : node.path("addr_info")) {
            addrs.add(a.path("local").asText() + "/" + a.path("prefixlen").asInt());
        }
        boolean up = false;
        for (JsonNode f : node.path("flags")) {
            up |= f.asText().equals("UP");
        }
        return new Link(node.path("ifname").asText(), node.path("address").asText(), node.path("mtu").asInt(),
                node.path("linkinfo").path("info_kind").asText(""), up, addrs);
    }

    /** @return the first IPv4 address without its prefix length, "" when none */
    public String ipv4() {
        return addresses.stream().filter(a -> a.contains(".")).map(a -> a.substring(0, a.indexOf('/'))).findFirst().orElse("");
    }
}
