package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.ARPNeighbors;
import dev.podvisor.protocols.agent.AddARPNeighborsRequest;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Routes;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.UpdateInterfaceRequest;
import dev.podvisor.protocols.agent.UpdateRoutesRequest;
import dev.podvisor.protocols.agent.types.ARPNeighbor;
import dev.podvisor.protocols.agent.types.IPAddress;
import dev.podvisor.protocols.agent.types.IPFamily;
import dev.podvisor.protocols.agent.types.Interface;
import dev.podvisor.protocols.agent.types.Route;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The guest's network calls applied in its own network namespace (checked there with {@code ip}, never in
 * the host's): UpdateInterface with the name-clash rule, MTU, NOARP, addresses and the IPv6 skip;
 * UpdateRoutes (gateway-less first, proto boot, onlink); AddARPNeighbors; CreateSandbox dns in the guest's own
 * {@code /etc/resolv.conf} view; containers without a network namespace see the guest's NICs, with one
 * only {@code lo}. Needs root, runc and /bin/busybox, as {@link GuestMainTest}.
 */
class GuestNetworkTest {
    private static final String AGENT = "grpc.AgentService";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SHARED = "/run/kata-containers/shared/containers/";
    private static final String MAC = "02:00:0a:4d:00:02";

    private Path dir;
    private GuestHarness guest;
    private TtrpcClient agent;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("guest-net-");
        Path share = Files.createDirectories(dir.resolve("share"));
        GuestHarness.rootfs(share.resolve("c1").resolve("rootfs"));
        Files.createSymbolicLink(share.resolve("c1").resolve("rootfs").resolve("bin").resolve("ip"), Path.of("busybox"));
        guest = GuestHarness.start(dir.resolve("vm"));
        agent = guest.boot(share);
    }

    @AfterEach
    void stop() throws Exception {
        if (guest != null) {
            guest.close();
        }
        GuestHarness.deleteTree(dir);
    }

    /** {@code ip <args>} in the guest's network namespace. */
    private String ip(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=/proc/" + guest.process.pid() + "/ns/net", "ip"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), String.join(" ", argv) + ": " + out);
        return out;
    }

    @Test
    void interfacesRoutesNeighboursDnsAndContainersLiveInTheGuestNamespace() throws Exception {
        assertTrue(ip("-o", "link", "show", "lo").contains("UP"), "lo is up in the guest");
        ip("link", "add", "eth0", "type", "veth", "peer", "name", "p0"); // this kernel has no dummy links
        ip("link", "add", "eth7", "address", MAC, "type", "veth", "peer", "name", "p7");
        ip("link", "set", "p0", "up");
        ip("link", "set", "p7", "up");
        Interface eth0 = Interface.newBuilder().setDevice("eth0").setName("eth0").setHwAddr(MAC).setMtu(1300)
                .setRawFlags(0x80)
                .addIPAddresses(IPAddress.newBuilder().setFamily(IPFamily.v4).setAddress("10.77.0.2").setMask("24"))
                .addIPAddresses(IPAddress.newBuilder().setFamily(IPFamily.v6).setAddress("fd00:77::2").setMask("64"))
                .build();
        assertEquals(eth0, agent.call(AGENT, "UpdateInterface", UpdateInterfaceRequest.newBuilder().setInterface(eth0)
                .build(), Interface.parser(), TIMEOUT));
        String link = ip("-o", "link", "show", "dev", "eth0");
        assertTrue(link.contains(MAC) && link.contains("mtu 1300") && link.contains("NOARP") && link.contains("UP"), link);
        assertTrue(ip("-o", "link", "show", "dev", "eth7").contains("eth7"), "the link that held the name took ours");
        String addrs = ip("-o", "addr", "show", "dev", "eth0");
        assertTrue(addrs.contains("10.77.0.2/24") && addrs.contains("fd00:77::2/64"), addrs);

        ip("link", "add", "eth1", "address", "02:00:0a:4d:00:03", "type", "veth", "peer", "name", "p1");
        // /proc/sys/net is the namespace of the process that opens it: write from inside the guest's netns only
        Process sysctl = new ProcessBuilder("nsenter", "--net=/proc/" + guest.process.pid() + "/ns/net", "sh", "-c",
                "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6").redirectErrorStream(true).start();
        assertEquals(0, sysctl.waitFor());
        Interface eth1 = Interface.newBuilder().setName("eth1").setHwAddr("02:00:0a:4d:00:03")
                .addIPAddresses(IPAddress.newBuilder().setFamily(IPFamily.v6).setAddress("fd00:78::2").setMask("64"))
                .build();
        agent.call(AGENT, "UpdateInterface", UpdateInterfaceRequest.newBuilder().setInterface(eth1).build(),
                Interface.parser(), TIMEOUT);
        assertFalse(ip("-o", "addr", "show", "dev", "eth1").contains("fd00:78"), "v6 skipped while disabled");

        Routes routes = agent.call(AGENT, "UpdateRoutes", UpdateRoutesRequest.newBuilder().setRoutes(Routes.newBuilder()
                .addRoutes(Route.newBuilder().setGateway("10.99.0.1").setDevice("eth0").setFlags(0x4))
                .addRoutes(Route.newBuilder().setDest("10.88.0.0/16").setDevice("eth0").setScope(253))).build(),
                Routes.parser(), TIMEOUT);
        String table = ip("-d", "route", "show", "table", "main");
        assertTrue(table.contains("default via 10.99.0.1 dev eth0 proto boot scope global onlink"), table);
        assertTrue(table.contains("10.88.0.0/16 dev eth0 proto boot scope link"), table);
        assertTrue(routes.getRoutesList().stream().anyMatch(r -> r.getDest().equals("10.88.0.0/16") && r.getScope() == 253),
                routes.toString());

        agent.call(AGENT, "AddARPNeighbors", AddARPNeighborsRequest.newBuilder().setNeighbors(ARPNeighbors.newBuilder()
                .addARPNeighbors(ARPNeighbor.newBuilder().setDevice("eth0").setLladdr("02:00:0a:4d:00:01").setState(0x80)
                        .setToIPAddress(IPAddress.newBuilder().setAddress("10.77.0.1")))).build(), Empty.parser(), TIMEOUT);
        assertTrue(ip("neigh", "show", "dev", "eth0").contains("10.77.0.1 lladdr 02:00:0a:4d:00:01 PERMANENT"));

        String hostResolv = Files.exists(Path.of("/etc/resolv.conf")) ? Files.readString(Path.of("/etc/resolv.conf")) : null;
        agent.call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb").setHostname("pod")
                .addDns("nameserver 10.77.0.53").addDns("search svc.cluster.local")
                .addStorages(Storage.newBuilder().setDriver("virtio-fs").setSource("kataShared")
                        .setFstype("virtiofs").setMountPoint(SHARED)).build(), Empty.parser(), TIMEOUT);
        Path guestView = Path.of("/proc/" + guest.process.pid() + "/root"); // the guest root is a tmpfs of its own namespace
        assertEquals("nameserver 10.77.0.53\nsearch svc.cluster.local\n", Files.readString(Path.of(guestView
                + dir.resolve("vm").resolve("guest-root/run/kata-containers/sandbox/resolv.conf").toString())));
        if (hostResolv != null) {
            assertEquals("nameserver 10.77.0.53\nsearch svc.cluster.local\n",
                    Files.readString(Path.of("/proc/" + guest.process.pid() + "/root/etc/resolv.conf")),
                    "the guest's own view of /etc/resolv.conf");
            assertEquals(hostResolv, Files.readString(Path.of("/etc/resolv.conf")), "the host's file is untouched");
        }

        assertTrue(containerLinks("shared", false).contains(MAC), "a container without a netns sees the guest NIC");
        String own = containerLinks("own", true);
        assertTrue(own.contains("lo") && !own.contains(MAC), "a network namespace entry gets a new, empty one: " + own);
    }

    private String containerLinks(String id, boolean ownNetns) throws Exception {
        List<String> namespaces = new ArrayList<>(List.of("pid", "mount"));
        if (ownNetns) {
            namespaces.add("network");
        }
        Spec spec = Spec.newBuilder().setVersion("1.0.2")
                .setProcess(dev.podvisor.protocols.agent.Process.newBuilder()
                        .addAllArgs(List.of("ip", "-o", "link")).addEnv("PATH=/bin").setCwd("/"))
                .setRoot(Root.newBuilder().setPath(SHARED + "c1/rootfs").setReadonly(true))
                .addMounts(dev.podvisor.protocols.agent.Mount.newBuilder().setDestination("/proc").setSource("proc")
                        .setType("proc"))
                .setLinux(dev.podvisor.protocols.agent.Linux.newBuilder().addAllNamespaces(namespaces.stream()
                        .map(t -> LinuxNamespace.newBuilder().setType(t).build()).toList()))
                .build();
        agent.call(AGENT, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId(id).setOCI(spec).build(),
                Empty.parser(), TIMEOUT);
        agent.call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId(id).build(),
                Empty.parser(), TIMEOUT);
        StringBuilder out = new StringBuilder();
        while (true) {
            ReadStreamResponse r;
            try {
                r = agent.call(AGENT, "ReadStdout", ReadStreamRequest.newBuilder().setContainerId(id).setLen(65536)
                        .build(), ReadStreamResponse.parser(), TIMEOUT);
            } catch (dev.podvisor.protocols.ttrpc.TtrpcException eof) {
                break;
            }
            if (r.getData().isEmpty()) {
                break;
            }
            out.append(r.getData().toStringUtf8());
        }
        return out.toString();
    }
}
