package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.Spec;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OciSpecConverterTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static final String CONFIG = """
            {"ociVersion": "1.0.2-dev",
             "process": {"terminal": true, "user": {"uid": 1000, "gid": 100, "additionalGids": [10, 20]},
                         "args": ["sh", "-c", "echo hi"], "env": ["PATH=/bin"], "cwd": "/",
                         "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"]},
                         "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
                         "noNewPrivileges": true, "oomScoreAdj": -998},
             "root": {"path": "rootfs", "readonly": false},
             "hostname": "box",
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid"]}],
             "annotations": {"io.kubernetes.cri.container-type": "sandbox"},
             "linux": {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                       "sysctl": {"net.ipv4.ip_forward": "1"},
                       "resources": {"memory": {"limit": 536870912},
                                     "devices": [{"allow": false, "access": "rwm"}]},
                       "cgroupsPath": "/default/c1",
                       "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
                       "maskedPaths": ["/proc/kcore"], "someFutureField": {"x": 1}}}
            """;

    @Test
    void mapsOciJsonOntoTheAgentsMirror() throws Exception {
        Spec spec = OciSpecConverter.toAgentSpec(JSON.readTree(CONFIG));
        assertEquals("1.0.2-dev", spec.getVersion());
        assertTrue(spec.getProcess().getTerminal());
        assertEquals(1000, spec.getProcess().getUser().getUID());
        assertEquals(2, spec.getProcess().getUser().getAdditionalGidsCount());
        assertEquals("echo hi", spec.getProcess().getArgs(2));
        assertEquals("RLIMIT_NOFILE", spec.getProcess().getRlimits(0).getType());
        assertEquals(-998, spec.getProcess().getOOMScoreAdj());
        assertEquals("rootfs", spec.getRoot().getPath());
        assertEquals("box", spec.getHostname());
        assertEquals("proc", spec.getMounts(0).getType());
        assertEquals(dev.podvisor.protocols.agent.StringEntry.newBuilder().setKey("io.kubernetes.cri.container-type")
                .setValue("sandbox").build(), spec.getAnnotations(0));
        assertEquals(100000, spec.getLinux().getUIDMappings(0).getHostID());
        assertEquals("net.ipv4.ip_forward", spec.getLinux().getSysctl(0).getKey());
        assertEquals("1", spec.getLinux().getSysctl(0).getValue());
        assertEquals(536870912L, spec.getLinux().getResources().getMemory().getLimit());
        assertEquals("/default/c1", spec.getLinux().getCgroupsPath());
        assertEquals("/proc/1/ns/net", spec.getLinux().getNamespaces(1).getPath());
        assertEquals("/proc/kcore", spec.getLinux().getMaskedPaths(0));
    }

    @Test
    void convertsAnExecProcess() throws Exception {
        Process process = OciSpecConverter.merge(JSON.readTree("{\"args\":[\"ls\"],\"cwd\":\"/tmp\",\"terminal\":false}"),
                Process.newBuilder(), "").build();
        assertEquals("ls", process.getArgs(0));
        assertEquals("/tmp", process.getCwd());
    }

    @Test
    void aWrongTypeNamesItsPath() {
        var error = assertThrows(IllegalArgumentException.class, () ->
                OciSpecConverter.toAgentSpec(JSON.readTree("{\"process\": {\"user\": {\"uid\": \"root\"}}}")));
        assertTrue(error.getMessage().contains("process.user.uid"), error.getMessage());
        assertTrue(error.getMessage().contains("\"root\" does not fit a int"), error.getMessage());
    }

    @Test
    void mergesIntoWhatTheBuilderHoldsAndKeepsNullsAndUnsignedValues() throws Exception {
        Process.Builder builder = Process.newBuilder().setCwd("/kept").addArgs("first");
        OciSpecConverter.merge(JSON.readTree("{\"args\":[\"second\"],\"user\":{\"uid\":4294967295},"
                + "\"rlimits\":[null,{\"type\":\"RLIMIT_CORE\"}],\"env\":null}"), builder, "");
        Process process = builder.build();
        assertEquals(java.util.List.of("first", "second"), process.getArgsList());
        assertEquals("/kept", process.getCwd());
        assertEquals(-1, process.getUser().getUID(), "a uint32 above 2^31 wraps as protobuf-java holds it");
        assertEquals(2, process.getRlimitsCount());
        assertEquals("", process.getRlimits(0).getType());
        assertEquals("RLIMIT_CORE", process.getRlimits(1).getType());
        assertEquals(0, process.getEnvCount());
    }

    @Test
    void anUpdatesResourcesErrorNamesItsPathFromResources() throws Exception {
        var error = assertThrows(IllegalArgumentException.class, () -> OciSpecConverter.merge(
                JSON.readTree("{\"memory\": {\"limit\": \"1G\"}}"), dev.podvisor.protocols.agent.LinuxResources.newBuilder(), "resources"));
        assertEquals("OCI spec resources.memory.limit: \"1G\" does not fit a long", error.getMessage());
    }

    @Test
    void aBuilderOfNoOciObjectIsRefusedByName() {
        var error = assertThrows(IllegalArgumentException.class, () -> OciSpecConverter.merge(
                JSON.createObjectNode(), dev.podvisor.protocols.agent.LinuxSeccompArg.newBuilder(), ""));
        assertTrue(error.getMessage().contains("dev.podvisor.protocols.agent.LinuxSeccompArg$Builder"), error.getMessage());
    }
}
