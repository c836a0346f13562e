package dev.podvisor.sandbox.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link IpJson} on iproute2 6.1 JSON recorded from real namespaces (src/test/resources/network). */
class IpJsonTest {

    /** The five dumps of one recorded netns. */
    record Dumps(String links, String addrs, String routes4, String routes6, String neighbours) {
        static Dumps of(String dir) {
            return new Dumps(read(dir, "link"), read(dir, "addr"), read(dir, "route4"), read(dir, "route6"),
                    read(dir, "neigh"));
        }

        List<Endpoint> endpoints() {
            return IpJson.endpoints("netns test", links, addrs, routes4, routes6, neighbours);
        }

        private static String read(String dir, String name) {
            try (InputStream in = IpJsonTest.class.getResourceAsStream("/network/" + dir + "/" + name + ".json")) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException | NullPointerException e) {
                throw new AssertionError("fixture " + dir + "/" + name + ": " + e);
            }
        }
    }

    @Test
    void aCniVethBecomesOneEndpointWithKatasRoutesAndNeighbours() {
        List<Endpoint> endpoints = Dumps.of("one-nic").endpoints();
        assertEquals(1, endpoints.size(), "lo is skipped");
        Endpoint eth0 = endpoints.getFirst();
        assertEquals("eth0", eth0.name());
        assertEquals("tap0_kata", eth0.tapName());
        assertEquals("veth", eth0.kind());
        assertEquals("02:42:0a:58:00:05", eth0.mac());
        assertEquals(1400, eth0.mtu());
        assertFalse(eth0.noArp());
        assertEquals(List.of(new NetAddress(false, "10.88.0.5", 16), new NetAddress(true, "fd00::5", 64),
                new NetAddress(true, "fe80::42:aff:fe58:5", 64)), eth0.addresses(), "IPv6 link-local included");
        assertEquals(List.of(new NetRoute("", "10.88.0.1", "eth0", "", 0, false, 0, 0)), eth0.routes(),
                "the default route only: proto kernel routes are the kernel's business in the guest");
        assertEquals(List.of(
                        new NetNeighbour("10.88.0.1", false, "eth0", "02:42:0a:58:00:01", IpJson.NUD_REACHABLE, 0),
                        new NetNeighbour("10.88.0.9", false, "eth0", "02:42:0a:58:00:09", IpJson.NUD_PERMANENT, 0)),
                eth0.neighbours(), "the reachable default gateway and the permanent entry");
    }

    @Test
    void twoInterfacesAreIndexedInLinkOrderAndSortedByName() {
        List<Endpoint> endpoints = Dumps.of("two-nics").endpoints();
        assertEquals(List.of("eth0", "eth1"), endpoints.stream().map(Endpoint::name).toList());
        assertEquals(List.of("tap1_kata", "tap0_kata"), endpoints.stream().map(Endpoint::tapName).toList(),
                "eth1 comes first in the link dump");
        Endpoint eth0 = endpoints.get(0);
        Endpoint eth1 = endpoints.get(1);
        assertTrue(eth1.noArp());
        assertEquals(List.of(new NetRoute("", "10.88.0.1", "eth0", "", 0, false, 0, 0),
                new NetRoute("", "fd00::1", "eth0", "", 0, true, 0, 0)), eth0.routes());
        assertEquals(List.of(new NetRoute("10.99.0.0/16", "169.254.1.1", "eth1", "", 0, false, 4, 1300),
                        new NetRoute("169.254.1.1/32", "", "eth1", "", 253, false, 0, 0)), eth1.routes(),
                "onlink flag, route MTU, a host route as /32 with link scope");
        assertEquals(List.of("10.88.0.9", "10.88.0.1", "fd00::1"),
                eth0.neighbours().stream().map(NetNeighbour::address).toList(),
                "10.88.0.10 is REACHABLE but no gateway: left out");
        NetNeighbour router = eth0.neighbours().get(2);
        assertTrue(router.v6());
        assertEquals(IpJson.NTF_ROUTER, router.flags());
    }

    @Test
    void linksWithoutAddressesAreSkippedAndOtherKindsRefusedByName() {
        Dumps dumps = Dumps.of("one-nic");
        assertEquals(List.of(), IpJson.endpoints("netns test", dumps.links(), "[]", "[]", "[]", "[]"),
                "a netns whose links have no address gives no NIC");
        NetworkException e = assertThrows(NetworkException.class, () -> IpJson.endpoints("netns /run/netns/x",
                dumps.links().replace("\"info_kind\":\"veth\"", "\"info_kind\":\"macvlan\""), dumps.addrs(), "[]",
                "[]", "[]"));
        assertEquals("Unsupported network interface: eth0 in netns /run/netns/x is of kind macvlan (Podvisor's"
                + " tcfilter model supports veth and plain devices)", e.getMessage());
        List<Endpoint> plain = IpJson.endpoints("netns test",
                dumps.links().replace(",\"linkinfo\":{\"info_kind\":\"veth\"}", ""), dumps.addrs(), "[]", "[]", "[]");
        assertEquals("device", plain.getFirst().kind(), "no kind: a generic device, wired like a veth");
    }

    @Test
    void garbageIsANamedError() {
        NetworkException e = assertThrows(NetworkException.class,
                () -> IpJson.endpoints("netns n", "{", "[]", "[]", "[]", "[]"));
        assertTrue(e.getMessage().startsWith("netns n: ip -j -d link show: unparsable output"), e.getMessage());
    }
}
