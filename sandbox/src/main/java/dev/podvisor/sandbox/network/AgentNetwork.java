package dev.podvisor.sandbox.network;

import dev.podvisor.protocols.agent.types.ARPNeighbor;
import dev.podvisor.protocols.agent.types.IPAddress;
import dev.podvisor.protocols.agent.types.IPFamily;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.util.List;

/**
 * The pod's endpoints as the kata agent's network messages, and Kata Go's order of sending them before
 * CreateSandbox ({@code kata_agent.go setupNetworks}; {@code network.go generateVCNetworkStructures}).
 */
public final class AgentNetwork {

    /** {@code IFF_NOARP}: the only interface flag passed to the agent. */
    public static final int IFF_NOARP = 0x80;
    /** Kata Go's endpoint type string for a veth ({@code VethEndpointType}). */
    public static final String VETH_TYPE = "virtual";
    private static final int LINK_NOT_FOUND_ATTEMPTS = 20;
    private static final long LINK_NOT_FOUND_PAUSE_MS = 20;

    private AgentNetwork() {
    }

    /**
     * {@code types.Interface} for an endpoint: device = name = the pod interface's name, its addresses with
     * prefix lengths, MTU, MAC, type {@code virtual}, {@code raw_flags} = its NOARP bit only.
     *
     * @param devicePath the guest PCI path for a hot-plugged NIC, empty for a cold-plugged one (the agent then
     *                   finds it by MAC)
     */
    public static Interface toInterface(Endpoint endpoint, String devicePath) {
        Interface.Builder b = Interface.newBuilder()
                .setDevice(endpoint.name())
                .setName(endpoint.name())
                .setMtu(endpoint.mtu())
                .setHwAddr(endpoint.mac())
                .setDevicePath(devicePath)
                .setType(VETH_TYPE)
                .setRawFlags(endpoint.noArp() ? IFF_NOARP : 0);
        for (NetAddress a : endpoint.addresses()) {
            b.addIPAddresses(IPAddress.newBuilder().setFamily(a.v6() ? IPFamily.v6 : IPFamily.v4)
                    .setAddress(a.address()).setMask(Integer.toString(a.prefix())));
        }
        return b.build();
    }

    /** Every endpoint's routes, in endpoint order. */
    public static List<Route> routes(List<Endpoint> endpoints) {
        return endpoints.stream().flatMap(e -> e.routes().stream()).map(r -> Route.newBuilder()
                .setDest(r.dest()).setGateway(r.gateway()).setDevice(r.device()).setSource(r.source())
                .setScope(r.scope()).setFamily(r.v6() ? IPFamily.v6 : IPFamily.v4).setFlags(r.flags())
                .setMtu(r.mtu()).build()).toList();
    }

    /** Every endpoint's neighbours, in endpoint order. */
    public static List<ARPNeighbor> neighbours(List<Endpoint> endpoints) {
        return endpoints.stream().flatMap(e -> e.neighbours().stream()).map(n -> ARPNeighbor.newBuilder()
                .setToIPAddress(IPAddress.newBuilder().setFamily(n.v6() ? IPFamily.v6 : IPFamily.v4)
                        .setAddress(n.address()))
                .setDevice(n.device()).setLladdr(n.lladdr()).setState(n.state()).setFlags(n.flags()).build())
                .toList();
    }

    /**
     * Sends {@code UpdateInterface} per endpoint (retried up to 20 times, 20 ms apart, only while the agent says
     * "Link not found"), then {@code UpdateRoutes} with all routes, then {@code AddARPNeighbors} (an agent
     * without it, UNIMPLEMENTED, is accepted). Requests with nothing to carry are not sent.
     *
     * @throws TtrpcException the agent's refusal
     */
    public static void apply(AgentClient agent, List<Endpoint> endpoints, LogfmtLog log) {
        for (Endpoint endpoint : endpoints) {
            updateInterface(agent, toInterface(endpoint, ""));
        }
        List<Route> routes = routes(endpoints);
        if (!routes.isEmpty()) {
            agent.updateRoutes(routes);
        }
        List<ARPNeighbor> neighbours = neighbours(endpoints);
        if (!neighbours.isEmpty()) {
            try {
                agent.addArpNeighbors(neighbours);
            } catch (TtrpcException e) {
                if (e.code() != Code.UNIMPLEMENTED) {
                    throw e;
                }
                log.warn("the agent has no AddARPNeighbors; neighbours not pre-seeded");
            }
        }
        if (!endpoints.isEmpty()) {
            log.info("guest network configured", "interfaces", endpoints.size(), "routes", routes.size(),
                    "neighbours", neighbours.size());
        }
    }

    /** {@code UpdateInterface} with Kata Go's retry while a (hot-plugged) NIC has not appeared yet. */
    public static Interface updateInterface(AgentClient agent, Interface nic) {
        for (int attempt = 1; ; attempt++) {
            try {
                return agent.updateInterface(nic);
            } catch (TtrpcException e) {
                String message = String.valueOf(e.getMessage());
                if (attempt >= LINK_NOT_FOUND_ATTEMPTS || !message.contains("Link not found")) {
                    throw e;
                }
                try {
                    Thread.sleep(LINK_NOT_FOUND_PAUSE_MS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
