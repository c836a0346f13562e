package dev.podvisor.sandbox.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.Tun;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Discovery and host wiring against a real pod netns (root): the tap, the qdiscs and the u32 mirred
 * redirects Kata's tcfilter model makes, and their removal.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TcFilterNetworkTest {

    @RegisterExtension
    final ScratchPodNetns pod = new ScratchPodNetns();

    private final List<HostNetwork> persisted = new ArrayList<>();

    private PodNetwork plan() throws Exception {
        String spec = "{\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"" + pod.path + "\"}]}}";
        return PodNetwork.plan("tcfilter", new ObjectMapper().readTree(spec), LogfmtLog.discard());
    }

    @Test
    void theTapAndTheRedirectsBothWaysAreMadeAndUndoneWithoutATrace() throws Exception {
        PodNetwork network = plan();
        assertEquals(1, network.endpoints().size());
        TcFilterNetwork.Wired wired = TcFilterNetwork.wire(pod.path, network.endpoints(), persisted::add,
                LogfmtLog.discard());
        try {
            assertEquals(1, wired.tapFds().size());
            assertEquals("tap0_kata", Tun.name(wired.tapFds().getFirst()));
            assertEquals(10, Tun.vnetHdrSize(wired.tapFds().getFirst()), "IFF_VNET_HDR, size left to the VMM");
        } finally {
            wired.tapFds().forEach(Linux::closeQuietly);
        }
        assertEquals(new HostNetwork(pod.path.toString(), List.of(new HostNetwork.Nic("eth0", "tap0_kata", true, true))),
                persisted.getLast());
        String tap = pod.ip("-d", "link", "show", "tap0_kata");
        assertTrue(tap.contains("tun type tap pi off vnet_hdr on persist on"), tap);
        assertTrue(tap.contains("mtu 1400"), tap);
        assertTrue(tap.contains("state") && tap.contains("UP"), tap);
        String fromVeth = pod.tc("-s", "filter", "show", "dev", "eth0", "ingress");
        assertTrue(fromVeth.contains("u32") && fromVeth.contains("match 00000000/00000000 at 0"), fromVeth);
        assertTrue(fromVeth.contains("mirred (Egress Redirect to device tap0_kata) stolen"), fromVeth);
        String fromTap = pod.tc("-s", "filter", "show", "dev", "tap0_kata", "ingress");
        assertTrue(fromTap.contains("mirred (Egress Redirect to device eth0) stolen"), fromTap);
        assertTrue(pod.ip("addr", "show", "eth0").contains("10.88.0.5/16"), "the veth keeps its address");

        TcFilterNetwork.undo(wired.record(), LogfmtLog.discard());
        assertFalse(pod.ip("link", "show").contains("tap0_kata"), "no tap left");
        assertEquals("", pod.tc("qdisc", "show", "dev", "eth0", "ingress").strip(), "no qdisc left on the veth");
        assertTrue(pod.ip("link", "show", "eth0").contains("UP"), "the veth itself is untouched");
        TcFilterNetwork.undo(wired.record(), LogfmtLog.discard()); // idempotent
    }

    @Test
    void aFailedWiringUndoesItsStepsAndLeavesForeignQdiscsAlone() throws Exception {
        pod.tc("qdisc", "add", "dev", "eth0", "ingress"); // someone else's, e.g. a CNI plugin's
        PodNetwork network = plan();
        NetworkException e = assertThrows(NetworkException.class,
                () -> TcFilterNetwork.wire(pod.path, network.endpoints(), persisted::add, LogfmtLog.discard()));
        assertTrue(e.getMessage().contains("tc qdisc add dev eth0 ingress"), e.getMessage());
        assertFalse(pod.ip("link", "show").contains("tap0_kata"), "the tap made before the failure is gone");
        assertTrue(pod.tc("qdisc", "show", "dev", "eth0", "ingress").contains("ingress"), "the foreign qdisc stays");
        assertEquals(HostNetwork.empty(pod.path.toString()), persisted.getLast());
    }

    @Test
    void anExistingTapOfThatNameIsNotTakenOver() throws Exception {
        pod.ip("tuntap", "add", "dev", "tap0_kata", "mode", "tap");
        PodNetwork network = plan();
        NetworkException e = assertThrows(NetworkException.class,
                () -> TcFilterNetwork.wire(pod.path, network.endpoints(), persisted::add, LogfmtLog.discard()));
        assertTrue(e.getMessage().contains("tap0_kata already exists"), e.getMessage());
        assertTrue(pod.ip("link", "show").contains("tap0_kata"), "not Podvisor's: left in place");
    }
}
