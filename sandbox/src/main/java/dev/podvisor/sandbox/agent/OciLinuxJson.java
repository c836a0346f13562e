package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.Linux;
import dev.podvisor.protocols.agent.LinuxDevice;
import dev.podvisor.protocols.agent.LinuxIDMapping;
import dev.podvisor.protocols.agent.LinuxIntelRdt;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.LinuxSeccomp;
import dev.podvisor.protocols.agent.LinuxSeccompArg;
import dev.podvisor.protocols.agent.LinuxSyscall;


/**
 * OCI {@code linux} (runtime-spec config-linux.md: uidMappings, gidMappings, sysctl, resources, cgroupsPath,
 * namespaces, devices, seccomp, rootfsPropagation, maskedPaths, readonlyPaths, mountLabel, intelRdt) → the agent's
 * {@code grpc.Linux} and its parts (kata-containers src/libs/protocols/protos/oci.proto: Linux, LinuxIDMapping,
 * LinuxNamespace, LinuxDevice, LinuxSeccomp, LinuxSyscall, LinuxSeccompArg, LinuxIntelRdt; resources in
 * {@link OciResourcesJson}). Keys match field names ignoring case; keys without a field (e.g. {@code timeOffsets},
 * {@code intelRdt.closID}) and null values are skipped. Errors as {@link OciJson} describes.
 */
final class OciLinuxJson {

    private OciLinuxJson() {
    }

    static Linux linux(JsonNode json, String path) {
        Linux.Builder b = Linux.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "uidmappings" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addUIDMappings(idMapping(array.get(i), m.element(i)));
                    }
                }
                case "gidmappings" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addGIDMappings(idMapping(array.get(i), m.element(i)));
                    }
                }
                case "sysctl" -> b.addAllSysctl(m.stringEntries());
                case "resources" -> b.setResources(OciResourcesJson.resources(m.value(), m.path()));
                case "cgroupspath" -> b.setCgroupsPath(m.string());
                case "namespaces" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addNamespaces(namespace(array.get(i), m.element(i)));
                    }
                }
                case "devices" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addDevices(device(array.get(i), m.element(i)));
                    }
                }
                case "seccomp" -> b.setSeccomp(seccomp(m.value(), m.path()));
                case "rootfspropagation" -> b.setRootfsPropagation(m.string());
                case "maskedpaths" -> b.addAllMaskedPaths(m.strings());
                case "readonlypaths" -> b.addAllReadonlyPaths(m.strings());
                case "mountlabel" -> b.setMountLabel(m.string());
                case "intelrdt" -> b.setIntelRdt(intelRdt(m.value(), m.path()));
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxIDMapping idMapping(JsonNode json, String path) {
        LinuxIDMapping.Builder b = LinuxIDMapping.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "hostid" -> b.setHostID(m.int32());
                case "containerid" -> b.setContainerID(m.int32());
                case "size" -> b.setSize(m.int32());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxNamespace namespace(JsonNode json, String path) {
        LinuxNamespace.Builder b = LinuxNamespace.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "type" -> b.setType(m.string());
                case "path" -> b.setPath(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxDevice device(JsonNode json, String path) {
        LinuxDevice.Builder b = LinuxDevice.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "path" -> b.setPath(m.string());
                case "type" -> b.setType(m.string());
                case "major" -> b.setMajor(m.int64());
                case "minor" -> b.setMinor(m.int64());
                case "filemode" -> b.setFileMode(m.int32());
                case "uid" -> b.setUID(m.int32());
                case "gid" -> b.setGID(m.int32());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxSeccomp seccomp(JsonNode json, String path) {
        LinuxSeccomp.Builder b = LinuxSeccomp.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "defaultaction" -> b.setDefaultAction(m.string());
                case "architectures" -> b.addAllArchitectures(m.strings());
                case "flags" -> b.addAllFlags(m.strings());
                case "syscalls" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addSyscalls(syscall(array.get(i), m.element(i)));
                    }
                }
                default -> { }
            }
        }
        return b.build();
    }

    /** {@code errnoRet} is a one-field oneof in the mirror, so an explicit 0 is kept (it has presence). */
    private static LinuxSyscall syscall(JsonNode json, String path) {
        LinuxSyscall.Builder b = LinuxSyscall.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "names" -> b.addAllNames(m.strings());
                case "action" -> b.setAction(m.string());
                case "errnoret" -> b.setErrnoret(m.int32());
                case "args" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addArgs(seccompArg(array.get(i), m.element(i)));
                    }
                }
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxSeccompArg seccompArg(JsonNode json, String path) {
        LinuxSeccompArg.Builder b = LinuxSeccompArg.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "index" -> b.setIndex(m.int64());
                case "value" -> b.setValue(m.int64());
                case "valuetwo" -> b.setValueTwo(m.int64());
                case "op" -> b.setOp(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxIntelRdt intelRdt(JsonNode json, String path) {
        LinuxIntelRdt.Builder b = LinuxIntelRdt.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            if (m.key().equals("l3cacheschema")) {
                b.setL3CacheSchema(m.string());
            }
        }
        return b.build();
    }
}
