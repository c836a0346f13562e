package dev.podvisor.sandbox.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.AddARPNeighborsRequest;
import dev.podvisor.protocols.agent.UpdateInterfaceRequest;
import dev.podvisor.protocols.agent.UpdateRoutesRequest;
import dev.podvisor.protocols.agent.types.IPFamily;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.protocols.ttrpc.TtrpcService;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.log.LogfmtLog;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@link AgentNetwork}: the messages' fields and Kata Go's order and retry rules, against a fake agent. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AgentNetworkTest {

    @TempDir
    Path dir;

    private final List<String> calls = new CopyOnWriteArrayList<>();
    private final AtomicInteger linkNotFound = new AtomicInteger();
    private volatile Code neighboursAnswer;
    private TtrpcServer server;
    private AgentClient agent;

    private static final Endpoint ETH0 = new Endpoint(0, "eth0", "veth", "02:42:0a:58:00:05", 1400, false,
            List.of(new NetAddress(false, "10.88.0.5", 16), new NetAddress(true, "fe80::1", 64)),
            List.of(new NetRoute("", "10.88.0.1", "eth0", "", 0, false, 0, 0),
                    new NetRoute("10.99.0.0/16", "169.254.1.1", "eth0", "10.88.0.5", 0, false, 4, 1300)),
            List.of(new NetNeighbour("10.88.0.1", false, "eth0", "02:42:0a:58:00:01", IpJson.NUD_REACHABLE, 0)));
    private static final Endpoint NET1 = new Endpoint(1, "net1", "device", "02:00:00:00:00:02", 9000, true,
            List.of(new NetAddress(false, "192.168.7.2", 24)), List.of(), List.of());

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private void startAgent() throws Exception {
        TtrpcService service = TtrpcService.builder("grpc.AgentService")
                .unary("UpdateInterface", UpdateInterfaceRequest.parser(), (ctx, req) -> {
                    calls.add("UpdateInterface " + req.getInterface().getName());
                    if (linkNotFound.getAndDecrement() > 0) {
                        throw new TtrpcException(Code.INTERNAL, "Link not found (hwaddr " + req.getInterface().getHwAddr() + ")");
                    }
                    return req.getInterface();
                })
                .unary("UpdateRoutes", UpdateRoutesRequest.parser(), (ctx, req) -> {
                    calls.add("UpdateRoutes " + req.getRoutes().getRoutesCount());
                    return req.getRoutes();
                })
                .unary("AddARPNeighbors", AddARPNeighborsRequest.parser(), (ctx, req) -> {
                    calls.add("AddARPNeighbors " + req.getNeighbors().getARPNeighborsCount());
                    if (neighboursAnswer != null) {
                        throw new TtrpcException(neighboursAnswer, "no");
                    }
                    return Empty.getDefaultInstance();
                })
                .build();
        server = TtrpcServer.builder().service(service).build();
        Path socket = dir.resolve("agent.sock");
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        listener.bind(UnixDomainSocketAddress.of(socket));
        server.serve(listener);
        SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        agent = new AgentClient(TtrpcClient.over(channel), Duration.ofSeconds(10));
    }

    @Test
    void theInterfaceCarriesWhatKataGoSends() {
        Interface nic = AgentNetwork.toInterface(ETH0, "");
        assertEquals("eth0", nic.getDevice());
        assertEquals("eth0", nic.getName());
        assertEquals(1400, nic.getMtu());
        assertEquals("02:42:0a:58:00:05", nic.getHwAddr());
        assertEquals("virtual", nic.getType());
        assertEquals(0, nic.getRawFlags());
        assertEquals("", nic.getDevicePath(), "cold plug: the agent finds the NIC by MAC");
        assertEquals(2, nic.getIPAddressesCount());
        assertEquals(IPFamily.v6, nic.getIPAddresses(1).getFamily());
        assertEquals("64", nic.getIPAddresses(1).getMask());
        assertEquals(AgentNetwork.IFF_NOARP, AgentNetwork.toInterface(NET1, "").getRawFlags());
        assertEquals("06", AgentNetwork.toInterface(NET1, "06").getDevicePath(), "hot plug: the PCI path");
        Route onlink = AgentNetwork.routes(List.of(ETH0)).get(1);
        assertEquals(List.of("10.99.0.0/16", "169.254.1.1", "eth0", "10.88.0.5"),
                List.of(onlink.getDest(), onlink.getGateway(), onlink.getDevice(), onlink.getSource()));
        assertEquals(4, onlink.getFlags());
        assertEquals(1300, onlink.getMtu());
        assertEquals(IpJson.NUD_REACHABLE, AgentNetwork.neighbours(List.of(ETH0)).getFirst().getState());
    }

    @Test
    void interfacesThenAllRoutesThenNeighboursRetryingOnlyLinkNotFound() throws Exception {
        startAgent();
        linkNotFound.set(2);
        neighboursAnswer = Code.UNIMPLEMENTED; // an old agent: accepted
        AgentNetwork.apply(agent, List.of(ETH0, NET1), LogfmtLog.discard());
        assertEquals(List.of("UpdateInterface eth0", "UpdateInterface eth0", "UpdateInterface eth0",
                "UpdateInterface net1", "UpdateRoutes 2", "AddARPNeighbors 1"), calls);
    }

    @Test
    void otherRefusalsAreNotRetried() throws Exception {
        startAgent();
        neighboursAnswer = Code.INTERNAL;
        TtrpcException e = assertThrows(TtrpcException.class,
                () -> AgentNetwork.apply(agent, List.of(ETH0), LogfmtLog.discard()));
        assertEquals(Code.INTERNAL, e.code());
        calls.clear();
        AgentNetwork.apply(agent, List.of(), LogfmtLog.discard());
        assertEquals(List.of(), calls, "nothing to send, nothing sent");
    }
}
