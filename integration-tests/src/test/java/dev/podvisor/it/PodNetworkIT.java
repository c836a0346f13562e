package dev.podvisor.it;

import dev.podvisor.it.cri.Container;
import dev.podvisor.it.cri.CriClient;
import dev.podvisor.it.cri.Kubelet;
import dev.podvisor.it.cri.Pod;
import dev.podvisor.it.cri.PodSpec;
import dev.podvisor.it.cri.api.Cri;
import dev.podvisor.it.net.HostHttpServer;
import dev.podvisor.it.net.Link;
import dev.podvisor.it.net.Netns;
import dev.podvisor.it.net.NetworkCensus;
import dev.podvisor.it.net.PodNetns;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pod networking end to end (issue 6): pods through containerd's CRI with the real CNI bridge plugin (a private
 * bridge and subnet per test), Podvisor's tap + tc mirroring in the pod netns, and the testbed relaying frames
 * into the guest emulator's namespace where the containers run. Traffic only goes to addresses on the test's
 * own bridges and pod namespaces.
 */
class PodNetworkIT {

    static final int EIGHT_MIB = 8 << 20;
    static final String WEB = "mkdir -p /www && echo hello-from-pod > /www/index.html"
            + " && head -c " + EIGHT_MIB + " /dev/urandom > /www/big && exec httpd -f -p 8080 -h /www";

    @TempDir
    Path work;
    CriNode node;
    PrivateContainerd containerd;
    CriClient cri;
    Kubelet kubelet;
    Leftovers.Snapshot before;
    NetworkCensus censusBefore;
    final List<String> markers = new ArrayList<>();
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .proxy(HttpClient.Builder.NO_PROXY).build();

    private void start(PrivateContainerd.Builder options) {
        before = Leftovers.take();
        censusBefore = NetworkCensus.take();
        node = CriNode.start(work, options);
        markers.addAll(node.markers());
        containerd = node.containerd();
        cri = node.cri();
        kubelet = Kubelet.create(cri, work.resolve("kubelet"));
        markers.add(work.toString());
    }

    @AfterEach
    void stopAndCheck() {
        try {
            if (kubelet != null) {
                kubelet.close();
            }
        } finally {
            if (node != null) {
                node.close();
            }
        }
        if (before != null) {
            Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
            Leftovers.assertNothingNewSince(before, markers);
            assertEquals(List.of(), NetworkCensus.take().newSince(censusBefore, markers), "network leftovers");
        }
    }

    private Pod runWebPod(String name) {
        Pod pod = kubelet.run(PodSpec.named(name + "-" + Long.toHexString(System.nanoTime() & 0xffffff))
                .withContainer(Container.busybox("web", "sh", "-c", WEB)));
        markers.add(pod.sandboxId());
        markers.add(pod.containerId("web"));
        return pod;
    }

    /** GETs {@code url} from the host until it answers 200 (the server may still be starting), 60 s at most. */
    private byte[] getFromHost(String url) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                        .build(), HttpResponse.BodyHandlers.ofByteArray());
                if (r.statusCode() == 200) {
                    return r.body();
                }
                last = new IOException("HTTP " + r.statusCode());
            } catch (IOException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
        throw new AssertionError("GET " + url + " from the host did not succeed within 60 s", last);
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private String bridgeAddress(int network) {
        return Netns.host().link(containerd.cniBridges().get(network)).ipv4();
    }

    @Test
    void hostAndPodReachEachOtherAndEightMibArriveByteForByte() {
        start(PrivateContainerd.builder().cni(true));
        Pod pod = runWebPod("net-http");
        assertFalse(pod.ip().isEmpty(), "pod IP");

        assertEquals("hello-from-pod\n", new String(getFromHost("http://" + pod.ip() + ":8080/index.html")),
                "host -> pod: HTTP GET to busybox httpd in the container at the pod IP");
        byte[] big = getFromHost("http://" + pod.ip() + ":8080/big");
        assertEquals(EIGHT_MIB, big.length);
        assertEquals(pod.exec("web", "sha256sum", "/www/big").requireSuccess().out().split(" ")[0], sha256(big),
                "8 MiB pod -> host byte for byte");

        byte[] blob = new byte[EIGHT_MIB];
        new Random(6).nextBytes(blob);
        try (HostHttpServer server = HostHttpServer.start(bridgeAddress(0),
                Map.of("/hello", "hello-from-host".getBytes(), "/blob", blob))) {
            assertEquals("hello-from-host", pod.exec("web", "wget", "-q", "-O", "-", server.url() + "/hello")
                    .requireSuccess().out(), "pod -> host bridge address");
            assertEquals(sha256(blob), pod.exec("web", "sh", "-c", "wget -q -O - " + server.url()
                    + "/blob | sha256sum").requireSuccess().out().split(" ")[0], "8 MiB host -> pod byte for byte");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1400})
    void guestNicHasTheVethMacAndMtu(int cniMtu) {
        start(PrivateContainerd.builder().cni(true).cniMtu(cniMtu));
        Pod pod = runWebPod("net-mtu");
        Link veth = PodNetns.of(pod).link("eth0");
        assertEquals(cniMtu == 0 ? 1500 : cniMtu, veth.mtu(), "the CNI plugin's MTU on the veth");

        assertEquals(veth.mac(), pod.exec("web", "cat", "/sys/class/net/eth0/address").requireSuccess().out(),
                "guest NIC MAC = veth MAC");
        assertEquals(Integer.toString(veth.mtu()), pod.exec("web", "cat", "/sys/class/net/eth0/mtu").requireSuccess().out(),
                "guest NIC MTU = veth MTU");
        assertTrue(pod.exec("web", "ip", "-o", "-4", "addr", "show", "dev", "eth0").requireSuccess().stdout()
                .contains(" " + pod.ip() + "/24 "), "the pod IP is on the guest's eth0");
        assertEquals("hello-from-pod\n", new String(getFromHost("http://" + pod.ip() + ":8080/index.html")));
    }

    @Test
    void aPodWithTwoInterfacesGetsTwoNicsEachWithItsRoutes() {
        start(PrivateContainerd.builder().cniNetworks(2));
        Pod pod = runWebPod("net-two");
        Netns netns = PodNetns.of(pod);
        Link eth0 = netns.link("eth0");
        Link eth1 = netns.link("eth1");

        for (Link veth : List.of(eth0, eth1)) {
            assertEquals(veth.mac(), pod.exec("web", "cat", "/sys/class/net/" + veth.name() + "/address")
                    .requireSuccess().out(), veth.name() + " MAC");
            assertTrue(pod.exec("web", "ip", "-o", "-4", "addr", "show", "dev", veth.name()).requireSuccess().stdout()
                    .contains(" " + veth.ipv4() + "/"), veth.name() + " address " + veth.ipv4());
        }
        List<String> hostRoutes = netns.routes();
        assertTrue(hostRoutes.stream().anyMatch(r -> r.startsWith("default via ") && r.endsWith(" dev eth0")), hostRoutes.toString());
        assertTrue(hostRoutes.stream().anyMatch(r -> !r.startsWith("default") && r.endsWith(" dev eth1")), hostRoutes.toString());
        assertEquals(new TreeSet<>(hostRoutes), gatewayRoutesInContainer(pod),
                "each NIC has its own routes in the guest, as in the pod netns");

        assertEquals("hello-from-pod\n", new String(getFromHost("http://" + eth0.ipv4() + ":8080/index.html")));
        assertEquals("hello-from-pod\n", new String(getFromHost("http://" + eth1.ipv4() + ":8080/index.html")),
                "the second NIC carries traffic too");
    }

    /** The container's IPv4 routes through a gateway, as {@code "<dst> via <gw> dev <dev>"}. */
    private static Set<String> gatewayRoutesInContainer(Pod pod) {
        Set<String> out = new TreeSet<>();
        for (String line : pod.exec("web", "ip", "-4", "route", "show").requireSuccess().stdout().lines().toList()) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 5 && f[1].equals("via") && f[3].equals("dev")) {
                out.add(f[0] + " via " + f[2] + " dev " + f[4]);
            }
        }
        return out;
    }

    @Test
    void afterThePodIsRemovedNoTapQdiscFilterRelayFdOrProcessIsLeft() {
        start(PrivateContainerd.builder().cni(true));
        Pod pod = runWebPod("net-gone");
        Netns netns = PodNetns.of(pod);
        assertEquals("hello-from-pod\n", new String(getFromHost("http://" + pod.ip() + ":8080/index.html")));

        // While it runs: Kata's tcfilter wiring, counted in the pod netns.
        assertEquals(List.of("tap0_kata"), netns.taps(), "one tap per NIC");
        Link tap = netns.link("tap0_kata");
        assertEquals(netns.link("eth0").mtu(), tap.mtu(), "the tap has the veth's MTU");
        assertEquals(2, netns.qdiscs().stream().filter(q -> q.startsWith("qdisc ingress")).count(), netns.qdiscs().toString());
        assertTrue(netns.ingressFilters("eth0").contains("Egress Redirect to device tap0_kata"), netns.ingressFilters("eth0"));
        assertTrue(netns.ingressFilters("tap0_kata").contains("Egress Redirect to device eth0"), netns.ingressFilters("tap0_kata"));
        List<String> running = NetworkCensus.take(containerd.netnsDir()).newSince(censusBefore, markers);
        assertTrue(running.contains("netns " + netns.path()), "while the pod runs the census counts its netns: " + running);
        assertTrue(running.stream().anyMatch(l -> l.startsWith("/dev/net/tun fd")),
                "while the pod runs the census counts the tap fds the relay holds: " + running);

        pod.remove();
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
        if (netns.exists()) {
            assertEquals(List.of(), netns.taps(), "no tap in the pod netns");
            assertEquals(List.of(), netns.qdiscs().stream().filter(q -> q.startsWith("qdisc ingress")).toList());
        }
        assertFalse(netns.exists(), "containerd removed the pod netns");
        assertEquals(List.of(), NetworkCensus.take(containerd.netnsDir()).newSince(censusBefore, markers),
                "no netns, host tap, ingress qdisc or /dev/net/tun fd (relay) left");
        Leftovers.assertNothingNewSince(before, markers);
    }

    /**
     * containerd's CRI plugin drops the sandbox's {@code network} namespace entry for a hostNetwork pod; a VM
     * cannot share the host's network stack, so the shim refuses it with Kata's text. What RunPodSandbox
     * started is gone afterwards (checked by {@link #stopAndCheck}: processes, mounts, taps, netns).
     */
    @Test
    void aHostNetworkPodIsRefusedWithANamedErrorAndLeavesNothing() {
        start(PrivateContainerd.builder().cni(true));
        PodSpec spec = PodSpec.named("net-host-" + Long.toHexString(System.nanoTime() & 0xffffff))
                .withHostNetwork(true).withContainer(Container.busybox("web", "sleep", "3600"));
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> kubelet.run(spec));
        assertTrue(String.valueOf(refused.getStatus().getDescription())
                .contains("Host networking requested, not supported by runtime"), refused.toString());
        assertEquals(0, cri.runtime().listPodSandbox(Cri.ListPodSandboxRequest.getDefaultInstance()).getItemsCount(),
                "no sandbox left");
    }
}
