package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.protocols.agent.Hook;
import dev.podvisor.protocols.agent.Hooks;
import dev.podvisor.protocols.agent.LinuxHugepageLimit;
import dev.podvisor.protocols.agent.LinuxIDMapping;
import dev.podvisor.protocols.agent.LinuxMemory;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.LinuxResources;
import dev.podvisor.protocols.agent.LinuxSyscall;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.POSIXRlimit;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.User;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The oci.proto → config.json conversion and the guest rewrites. */
class OciSpecsTest {

    private static final GuestRoot ROOT = new GuestRoot(Path.of("/vm/guest-root"));

    @Test
    void jsonKeysFollowTheOciSpelling() {
        assertEquals("ociVersion", OciSpecs.jsonKey("Version"));
        assertEquals("uidMappings", OciSpecs.jsonKey("UIDMappings"));
        assertEquals("oomScoreAdj", OciSpecs.jsonKey("OOMScoreAdj"));
        assertEquals("cpu", OciSpecs.jsonKey("CPU"));
        assertEquals("blockIO", OciSpecs.jsonKey("BlockIO"));
        assertEquals("disableOOMKiller", OciSpecs.jsonKey("DisableOOMKiller"));
        assertEquals("containerID", OciSpecs.jsonKey("ContainerID"));
        assertEquals("pageSize", OciSpecs.jsonKey("Pagesize"));
        assertEquals("errnoRet", OciSpecs.jsonKey("errnoret"));
        assertEquals("destination", OciSpecs.jsonKey("destination"));
        assertEquals("throttleReadIOPSDevice", OciSpecs.jsonKey("ThrottleReadIOPSDevice"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void configMapsGuestPathsDropsHooksAndNamespacePathsAndSetsTheCgroup() {
        Spec spec = Spec.newBuilder().setVersion("1.1.0")
                .setProcess(Process.newBuilder().addArgs("sh").setUser(User.newBuilder().setUID(1000)
                        .setUsername("someone")).addRlimits(POSIXRlimit.newBuilder().setType("RLIMIT_NOFILE")
                        .setHard(1024).setSoft(1024)).setOOMScoreAdj(-998))
                .setRoot(Root.newBuilder().setPath("/run/kata-containers/shared/containers/c1/rootfs"))
                .addMounts(Mount.newBuilder().setDestination("/etc/hostname")
                        .setSource("/run/kata-containers/shared/containers/c1-abc-hostname").setType("bind")
                        .addOptions("rbind"))
                .addMounts(Mount.newBuilder().setDestination("/proc").setSource("proc").setType("proc"))
                .addMounts(Mount.newBuilder().setDestination("/v").setSource("/run/kata-containers/sandbox/local/v")
                        .setType("local").addOptions("rbind"))
                .setHooks(Hooks.newBuilder().addPrestart(Hook.newBuilder().setPath("/usr/bin/hook")))
                .setLinux(dev.podvisor.protocols.agent.Linux.newBuilder()
                        .setCgroupsPath("/kubepods/besteffort/pod1/c1")
                        .addNamespaces(LinuxNamespace.newBuilder().setType("network").setPath("/var/run/netns/cni-1"))
                        .addUIDMappings(LinuxIDMapping.newBuilder().setContainerID(0).setHostID(100000).setSize(65536))
                        .setResources(LinuxResources.newBuilder().setMemory(LinuxMemory.newBuilder()
                                .setLimit(64L << 20).setDisableOOMKiller(true))
                                .addHugepageLimits(LinuxHugepageLimit.newBuilder().setPagesize("2MB"))))
                .build();
        Map<String, Object> config = OciSpecs.config(spec, ROOT, "/podvisor-testbed/vm/c1");

        assertEquals("1.1.0", config.get("ociVersion"));
        assertEquals("/vm/guest-root/run/kata-containers/shared/containers/c1/rootfs",
                ((Map<String, Object>) config.get("root")).get("path"));
        assertFalse(config.containsKey("hooks"));
        List<Map<String, Object>> mounts = (List<Map<String, Object>>) config.get("mounts");
        assertEquals("/vm/guest-root/run/kata-containers/shared/containers/c1-abc-hostname",
                mounts.get(0).get("source"));
        assertEquals("proc", mounts.get(1).get("source"));
        assertEquals("bind", mounts.get(2).get("type"), "local + rbind is a bind");
        Map<String, Object> process = (Map<String, Object>) config.get("process");
        assertEquals(Map.of("uid", 1000, "gid", 0), process.get("user"));
        assertEquals(-998L, process.get("oomScoreAdj"));
        assertEquals("RLIMIT_NOFILE", ((List<Map<String, Object>>) process.get("rlimits")).get(0).get("type"));
        assertEquals("/", process.get("cwd"));
        Map<String, Object> linux = (Map<String, Object>) config.get("linux");
        assertEquals("/podvisor-testbed/vm/c1", linux.get("cgroupsPath"));
        assertEquals(List.of(Map.of("type", "network")), linux.get("namespaces"));
        assertEquals(List.of(Map.of("hostID", 100000, "size", 65536)), linux.get("uidMappings"));
        Map<String, Object> resources = (Map<String, Object>) linux.get("resources");
        assertEquals(Map.of("limit", 64L << 20, "disableOOMKiller", true), resources.get("memory"));
        assertEquals(List.of(Map.of("pageSize", "2MB")), resources.get("hugepageLimits"));
    }

    @Test
    void seccompErrnoRetUsesTheOciKey() {
        Map<String, Object> json = OciSpecs.toJson(LinuxSyscall.newBuilder().addNames("mount")
                .setAction("SCMP_ACT_ERRNO").setErrnoret(1).build());
        assertEquals(Map.of("names", List.of("mount"), "action", "SCMP_ACT_ERRNO", "errnoRet", 1), json);
    }

    @Test
    void badSpecsNameTheField() {
        IllegalArgumentException noRoot = assertThrows(IllegalArgumentException.class, () -> OciSpecs.config(
                Spec.newBuilder().setProcess(Process.newBuilder().addArgs("sh")).build(), ROOT, "/x"));
        assertTrue(noRoot.getMessage().contains("OCI.Root.Path"), noRoot.getMessage());
        IllegalArgumentException escape = assertThrows(IllegalArgumentException.class, () -> OciSpecs.config(
                Spec.newBuilder().setProcess(Process.newBuilder().addArgs("sh"))
                        .setRoot(Root.newBuilder().setPath("/../../etc")).build(), ROOT, "/x"));
        assertTrue(escape.getMessage().contains("climbs out"), escape.getMessage());
        IllegalArgumentException noArgs = assertThrows(IllegalArgumentException.class,
                () -> OciSpecs.process(Process.newBuilder().setCwd("/").build()));
        assertTrue(noArgs.getMessage().contains("Process.Args"), noArgs.getMessage());
    }
}
