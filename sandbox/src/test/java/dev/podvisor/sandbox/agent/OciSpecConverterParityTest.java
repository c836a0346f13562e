package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.podvisor.protocols.agent.LinuxMemory;
import dev.podvisor.protocols.agent.LinuxResources;
import dev.podvisor.protocols.agent.OciProto;
import dev.podvisor.protocols.agent.POSIXRlimit;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.User;
import dev.podvisor.storage.json.JsonTrees;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The explicit converter ({@link OciSpecConverter}) gives exactly what the descriptor walk it replaced
 * ({@link DescriptorOciConverter}) gave: the same Spec for a spec setting every field of every message of oci.proto
 * (checked against oci.proto's descriptors, so a field added to the proto fails here until converted), the same
 * for edge specs, the same merges into filled builders and the same error texts.
 */
class OciSpecConverterParityTest {

    /** Every field of oci.proto set to a non-default value, keys spelled as runtime-spec spells them. */
    static final String RICH = """
            {"ociVersion": "1.2.0",
             "process": {"terminal": true, "consoleSize": {"height": 24, "width": 80},
                         "user": {"uid": 1000, "gid": 100, "umask": 18, "additionalGids": [10, 20], "username": "me"},
                         "args": ["sh", "-c", "echo hi"], "env": ["PATH=/bin", "A=b"], "cwd": "/work",
                         "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_CHOWN"], "inheritable": ["CAP_NET_RAW"],
                                          "permitted": ["CAP_KILL", "CAP_CHOWN"], "ambient": ["CAP_SYS_TIME"]},
                         "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024},
                                     {"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 0}],
                         "noNewPrivileges": true, "apparmorProfile": "podvisor", "oomScoreAdj": -998,
                         "selinuxLabel": "system_u:system_r:container_t:s0", "ioPriority": {"class": "IOPRIO_CLASS_RT"}},
             "root": {"path": "rootfs", "readonly": true},
             "hostname": "box",
             "mounts": [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec"]},
                        {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"], "uidMappings": []}],
             "hooks": {"prestart": [{"path": "/bin/pre", "args": ["pre", "1"], "env": ["X=1"], "timeout": 5}],
                       "createRuntime": [{"path": "/bin/cr"}], "createContainer": [{"path": "/bin/cc", "timeout": 2}],
                       "startContainer": [{"path": "/bin/sc", "args": ["sc"]}], "poststart": [{"path": "/bin/post"}],
                       "poststop": [{"path": "/bin/stop", "env": ["Y=2"]}]},
             "annotations": {"io.kubernetes.cri.container-type": "sandbox", "Mixed.Case/Key": "kept"},
             "linux": {"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
                       "gidMappings": [{"containerID": 1, "hostID": 200000, "size": 1000}],
                       "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"},
                       "resources": {"devices": [{"allow": false, "access": "rwm"},
                                                 {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
                                     "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824,
                                                "kernel": -1, "kernelTCP": 1048576, "swappiness": 60,
                                                "disableOOMKiller": true, "useHierarchy": true},
                                     "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "realtimeRuntime": 950000,
                                             "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0", "idle": 1},
                                     "pids": {"limit": 512},
                                     "blockIO": {"weight": 500, "leafWeight": 300,
                                                 "weightDevice": [{"major": 8, "minor": 1, "weight": 600, "leafWeight": 200}],
                                                 "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 104857600}],
                                                 "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 52428800}],
                                                 "throttleReadIOPSDevice": [{"major": 8, "minor": 32, "rate": 1000}],
                                                 "throttleWriteIOPSDevice": [{"major": 8, "minor": 48, "rate": 500}]},
                                     "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
                                     "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
                                     "rdma": {"mlx5_1": {"hcaHandles": 3}}, "unified": {"memory.high": "1G"}},
                       "cgroupsPath": "/default/c1",
                       "namespaces": [{"type": "pid"}, {"type": "network", "path": "/proc/1/ns/net"}],
                       "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438,
                                    "uid": 0, "gid": 0}, {"path": "/dev/sda", "type": "b", "major": 8, "minor": 0,
                                    "fileMode": 432, "uid": 7, "gid": 6}],
                       "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
                                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"], "flags": ["SECCOMP_FILTER_FLAG_LOG"],
                                   "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                                                {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
                                                 "args": [{"index": 0, "value": 8, "valueTwo": 0, "op": "SCMP_CMP_EQ"},
                                                          {"index": 1, "value": 4294967295, "valueTwo": 18446744073709551615,
                                                           "op": "SCMP_CMP_MASKED_EQ"}]}]},
                       "rootfsPropagation": "rslave",
                       "maskedPaths": ["/proc/kcore", "/proc/keys"], "readonlyPaths": ["/proc/sys", "/proc/bus"],
                       "mountLabel": "system_u:object_r:container_file_t:s0",
                       "intelRdt": {"closID": "guaranteed", "l3CacheSchema": "L3:0=7f0;1=1f"},
                       "personality": {"domain": "LINUX"}, "timeOffsets": {"monotonic": {"secs": 1}}},
             "solaris": {"dummy": "s"},
             "windows": {"dummy": "w", "layerFolders": ["c:\\\\l"]},
             "vm": {"hypervisor": {"path": "/bin/hv"}},
             "someFutureField": {"x": 1}}
            """;

    @Test
    void theRichSpecSetsEveryFieldOfEveryMessageOfOciProto() throws IOException {
        Spec spec = OciSpecConverter.toAgentSpec(JsonTrees.parse(RICH));
        TreeSet<String> expected = new TreeSet<>();
        for (Descriptor message : OciProto.getDescriptor().getMessageTypes()) {
            for (FieldDescriptor field : message.getFields()) {
                expected.add(field.getFullName());
            }
        }
        assertEquals(32, OciProto.getDescriptor().getMessageTypes().size(), "oci.proto's 31 messages and StringEntry");
        TreeSet<String> set = new TreeSet<>();
        collectSetFields(spec, set);
        expected.removeAll(set);
        assertEquals(new TreeSet<String>(), expected, "fields of oci.proto the rich spec leaves unset (or a converter misses)");
    }

    @Test
    void theRichSpecConvertsAsTheDescriptorWalkDid() throws IOException {
        assertSameSpec(RICH);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{}",
            "null",
            "{\"ociVersion\": null, \"process\": null, \"mounts\": null, \"linux\": {\"resources\": null, \"sysctl\": null}}",
            "{\"unknown\": 1, \"process\": {\"unknownToo\": [1, 2], \"user\": {\"umask\": 18}}, \"linux\": {\"unknown\": {}}}",
            "{\"OCIVERSION\": \"1\", \"Process\": {\"TERMINAL\": true, \"User\": {\"Uid\": 5, \"GiD\": 6}}, \"LINUX\": {\"UidMappings\": [{\"HOSTid\": 1}]}}",
            "{\"version\": \"via the field name\", \"process\": {}, \"root\": {}, \"hooks\": {}, \"linux\": {\"resources\": {\"memory\": {}}}, \"solaris\": {}, \"windows\": {}}",
            "{\"process\": {\"user\": {\"uid\": 4294967295, \"gid\": 2147483648, \"additionalGids\": [4294967294]}}, \"linux\": {\"resources\": {\"network\": {\"classID\": 3000000000}}}}",
            "{\"process\": {\"rlimits\": [null, {\"type\": \"RLIMIT_CORE\"}, null]}, \"mounts\": [null], \"hooks\": {\"poststop\": [null]}, \"linux\": {\"seccomp\": {\"syscalls\": [null, {\"args\": [null]}]}}}",
            "{\"process\": {\"args\": [\"a\"], \"ARGS\": [\"b\"], \"user\": {\"uid\": 1}, \"User\": {\"gid\": 2}}, \"annotations\": {\"k\": \"1\"}, \"Annotations\": {\"k\": \"2\", \"j\": \"3\"}}",
            "{\"linux\": {\"seccomp\": {\"syscalls\": [{\"names\": [\"x\"], \"errnoRet\": 0}, {\"names\": [\"y\"]}]}}}",
            "{\"process\": {\"oomScoreAdj\": -1000, \"rlimits\": [{\"hard\": 9223372036854775808}]}, \"linux\": {\"devices\": [{\"major\": -1, \"minor\": 12345678901}]}}",
            "{\"annotations\": {}, \"linux\": {\"sysctl\": {}, \"maskedPaths\": [], \"namespaces\": []}}"
    })
    void edgeSpecsConvertAsTheDescriptorWalkDid(String json) throws IOException {
        assertSameSpec(json);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"args\": [\"second\"], \"cwd\": \"\", \"terminal\": false, \"user\": {\"uid\": 0, \"gid\": 9}, \"rlimits\": [null]}",
            "{\"Env\": [\"B=2\"], \"capabilities\": {\"ambient\": [\"CAP_KILL\"]}, \"consoleSize\": {\"width\": 100}, \"oomScoreAdj\": 0}",
            "{\"user\": {}, \"consoleSize\": null, \"noNewPrivileges\": true, \"selinuxLabel\": \"l\"}",
            "null",
            "{}"
    })
    void mergesIntoAFilledProcessAsTheDescriptorWalkDid(String json) throws IOException {
        JsonNode tree = JsonTrees.parse(json);
        assertEquals(DescriptorOciConverter.merge(tree, filledProcess(), "").build(),
                OciSpecConverter.merge(tree, filledProcess(), "").build());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"memory\": {\"limit\": 1073741824, \"swap\": 0}, \"cpu\": {\"quota\": -1, \"cpus\": \"2\"}}",
            "{\"devices\": [{\"allow\": true, \"access\": \"r\"}], \"hugepageLimits\": [{\"pageSize\": \"1GB\", \"limit\": 1}],"
                    + " \"pids\": {\"limit\": 0}, \"blockIO\": {\"weight\": 10}, \"network\": {\"priorities\": [{\"name\": \"eth1\"}]}}",
            "{\"memory\": {}, \"cpu\": null, \"unified\": {\"x\": \"y\"}}"
    })
    void mergesIntoFilledResourcesAsTheDescriptorWalkDid(String json) throws IOException {
        JsonNode tree = JsonTrees.parse(json);
        assertEquals(DescriptorOciConverter.merge(tree, filledResources(), "").build(),
                OciSpecConverter.merge(tree, filledResources(), "").build());
    }

    @Test
    void mergesIntoAFilledSpecAsTheDescriptorWalkDid() throws IOException {
        JsonNode tree = JsonTrees.parse(RICH);
        Spec filled = OciSpecConverter.toAgentSpec(JsonTrees.parse(
                "{\"hostname\": \"old\", \"annotations\": {\"a\": \"1\"}, \"process\": {\"cwd\": \"/old\", \"args\": [\"x\"]}}"));
        assertEquals(DescriptorOciConverter.merge(tree, filled.toBuilder(), "").build(),
                OciSpecConverter.merge(tree, filled.toBuilder(), "").build());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "[]",
            "\"spec\"",
            "",
            "{\"ociVersion\": 1}",
            "{\"process\": {\"terminal\": \"yes\"}}",
            "{\"process\": {\"user\": {\"uid\": \"root\"}}}",
            "{\"process\": {\"user\": {\"uid\": 1.5}}}",
            "{\"process\": {\"user\": {\"additionalGids\": [1, \"2\"]}}}",
            "{\"process\": {\"oomScoreAdj\": true}}",
            "{\"process\": {\"rlimits\": [{\"hard\": 1e3}]}}",
            "{\"process\": {\"args\": \"sh\"}}",
            "{\"process\": {\"args\": [\"sh\", null]}}",
            "{\"process\": {\"args\": [\"sh\", {\"a\": [1, \"b\"]}]}}",
            "{\"process\": {\"rlimits\": {\"type\": \"x\"}}}",
            "{\"process\": {\"rlimits\": [\"RLIMIT_CORE\"]}}",
            "{\"process\": []}",
            "{\"root\": \"rootfs\"}",
            "{\"annotations\": []}",
            "{\"annotations\": {\"k\": 1}}",
            "{\"annotations\": {\"k\": null}}",
            "{\"linux\": {\"sysctl\": {\"a\": false}}}",
            "{\"linux\": {\"resources\": {\"memory\": {\"limit\": \"1G\"}}}}",
            "{\"linux\": {\"resources\": {\"memory\": {\"disableOOMKiller\": 1}}}}",
            "{\"linux\": {\"seccomp\": {\"syscalls\": [{\"errnoRet\": -0.5}]}}}",
            "{\"linux\": {\"Namespaces\": [{\"type\": \"pid\"}, 7]}}",
            "{\"windows\": {\"dummy\": 3}}",
            "{\"hooks\": {\"poststop\": [{\"timeout\": \"5s\"}]}}"
    })
    void typeErrorsReadAsTheDescriptorWalkWrote(String json) throws IOException {
        JsonNode tree = JsonTrees.parse(json);
        var reference = assertThrows(IllegalArgumentException.class, () -> DescriptorOciConverter.toAgentSpec(tree));
        var explicit = assertThrows(IllegalArgumentException.class, () -> OciSpecConverter.toAgentSpec(tree));
        assertEquals(reference.getMessage(), explicit.getMessage());
        var referenceMerge = assertThrows(IllegalArgumentException.class,
                () -> DescriptorOciConverter.merge(tree, Spec.newBuilder(), ""));
        var explicitMerge = assertThrows(IllegalArgumentException.class,
                () -> OciSpecConverter.merge(tree, Spec.newBuilder(), ""));
        assertEquals(referenceMerge.getMessage(), explicitMerge.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"user\": {\"gid\": \"x\"}}", "{\"env\": [1]}", "{\"consoleSize\": []}", "[1]"})
    void processTypeErrorsReadAsTheDescriptorWalkWrote(String json) throws IOException {
        JsonNode tree = JsonTrees.parse(json);
        var reference = assertThrows(IllegalArgumentException.class,
                () -> DescriptorOciConverter.merge(tree, Process.newBuilder(), ""));
        var explicit = assertThrows(IllegalArgumentException.class,
                () -> OciSpecConverter.merge(tree, Process.newBuilder(), ""));
        assertEquals(reference.getMessage(), explicit.getMessage());
    }

    private static void assertSameSpec(String json) throws IOException {
        JsonNode tree = JsonTrees.parse(json);
        assertEquals(DescriptorOciConverter.toAgentSpec(tree), OciSpecConverter.toAgentSpec(tree));
    }

    private static Process.Builder filledProcess() {
        return Process.newBuilder().setTerminal(true).setCwd("/kept").addArgs("first").addEnv("A=1")
                .setUser(User.newBuilder().setUID(7).setGID(8).addAdditionalGids(3).setUsername("u"))
                .addRlimits(POSIXRlimit.newBuilder().setType("RLIMIT_NPROC").setHard(2))
                .setOOMScoreAdj(100).setApparmorProfile("kept");
    }

    private static LinuxResources.Builder filledResources() {
        return LinuxResources.newBuilder()
                .setMemory(LinuxMemory.newBuilder().setLimit(1).setSwap(2).setDisableOOMKiller(true))
                .setPids(dev.podvisor.protocols.agent.LinuxPids.newBuilder().setLimit(10));
    }

    /** Records {@code Message.Field} for every field set (non-default, or non-empty when repeated) anywhere. */
    private static void collectSetFields(Message message, TreeSet<String> set) {
        for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
            FieldDescriptor field = entry.getKey();
            set.add(field.getFullName());
            if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !field.isMapField()) {
                if (field.isRepeated()) {
                    for (Object element : (List<?>) entry.getValue()) {
                        collectSetFields((Message) element, set);
                    }
                } else {
                    collectSetFields((Message) entry.getValue(), set);
                }
            }
        }
    }
}
