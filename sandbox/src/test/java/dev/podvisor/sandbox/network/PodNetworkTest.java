package dev.podvisor.sandbox.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.sandbox.log.LogfmtLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PodNetwork#plan} decisions and {@link PodNetwork#dns}; nothing here needs a real pod netns. */
class PodNetworkTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static JsonNode spec(String namespaces) throws Exception {
        return JSON.readTree("{\"linux\":{\"namespaces\":" + namespaces + "}}");
    }

    @Test
    void theNetnsIsThePathOfTheNetworkEntry() throws Exception {
        assertEquals(Optional.of(Path.of("/var/run/netns/cni-1")), NetworkDiscovery.netnsPath(
                spec("[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/var/run/netns/cni-1\"}]")));
        assertEquals(Optional.empty(), NetworkDiscovery.netnsPath(spec("[{\"type\":\"network\"}]")), "ctr run");
        assertEquals(Optional.empty(), NetworkDiscovery.netnsPath(spec("[{\"type\":\"network\",\"path\":\"\"}]")));
        assertEquals(Optional.empty(), NetworkDiscovery.netnsPath(JSON.readTree("{}")));
    }

    @Test
    void noPathOrModelNoneMeansNoNic() throws Exception {
        assertEquals(PodNetwork.none(), PodNetwork.plan("tcfilter", spec("[{\"type\":\"network\"}]"), LogfmtLog.discard()));
        assertEquals(PodNetwork.none(), PodNetwork.plan("none",
                spec("[{\"type\":\"network\",\"path\":\"/proc/self/ns/net\"}]"), LogfmtLog.discard()),
                "none: not even the host check or a scan");
    }

    @Test
    void aSpecWithoutNetworkNamespaceSharesTheHostsAndIsRefused() throws Exception {
        for (String namespaces : List.of("[]", "[{\"type\":\"pid\"},{\"type\":\"ipc\"}]")) {
            NetworkException e = assertThrows(NetworkException.class,
                    () -> PodNetwork.plan("tcfilter", spec(namespaces), LogfmtLog.discard()));
            assertEquals("Host networking requested, not supported by runtime: the sandbox spec has no network "
                    + "namespace (the pod shares the host's)", e.getMessage());
        }
        assertEquals(PodNetwork.none(), PodNetwork.plan("none", spec("[]"), LogfmtLog.discard()),
                "none: the user wires the VM, nothing is checked");
    }

    @Test
    void theHostNetnsIsRefusedWithKatasText() throws Exception {
        for (String host : List.of("/proc/self/ns/net", "/proc/" + ProcessHandle.current().pid() + "/ns/net")) {
            NetworkException e = assertThrows(NetworkException.class, () -> PodNetwork.plan("tcfilter",
                    spec("[{\"type\":\"network\",\"path\":\"" + host + "\"}]"), LogfmtLog.discard()));
            assertEquals("Host networking requested, not supported by runtime: netns " + host
                    + " is the host's network namespace", e.getMessage());
        }
        Path missing = dir.resolve("gone");
        NetworkException e = assertThrows(NetworkException.class, () -> PodNetwork.plan("tcfilter",
                spec("[{\"type\":\"network\",\"path\":\"" + missing + "\"}]"), LogfmtLog.discard()));
        assertTrue(e.getMessage().startsWith("network namespace " + missing + " of the sandbox spec: "), e.getMessage());
    }

    @Test
    void dnsIsTheLinesOfTheMountedResolvConf() throws Exception {
        Path resolv = Files.writeString(dir.resolve("resolv.conf"),
                "search default.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\n\noptions ndots:5\n");
        JsonNode spec = JSON.readTree("{\"mounts\":[{\"destination\":\"/etc/hosts\",\"source\":\"/nope\"},"
                + "{\"destination\":\"/etc/resolv.conf\",\"source\":\"" + resolv + "\",\"type\":\"bind\"}]}");
        assertEquals(List.of("search default.svc.cluster.local svc.cluster.local", "nameserver 10.96.0.10",
                "options ndots:5"), PodNetwork.dns(spec));
        assertEquals(List.of(), PodNetwork.dns(JSON.readTree("{\"mounts\":[]}")));
    }
}
