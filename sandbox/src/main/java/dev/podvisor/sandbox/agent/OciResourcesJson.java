package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.LinuxBlockIO;
import dev.podvisor.protocols.agent.LinuxCPU;
import dev.podvisor.protocols.agent.LinuxDeviceCgroup;
import dev.podvisor.protocols.agent.LinuxHugepageLimit;
import dev.podvisor.protocols.agent.LinuxInterfacePriority;
import dev.podvisor.protocols.agent.LinuxMemory;
import dev.podvisor.protocols.agent.LinuxNetwork;
import dev.podvisor.protocols.agent.LinuxPids;
import dev.podvisor.protocols.agent.LinuxResources;
import dev.podvisor.protocols.agent.LinuxThrottleDevice;
import dev.podvisor.protocols.agent.LinuxWeightDevice;


/**
 * OCI {@code linux.resources} (runtime-spec config-linux.md "Control groups": devices, memory, cpu, pids, blockIO,
 * hugepageLimits, network) → the agent's {@code grpc.LinuxResources} and its parts (kata-containers
 * src/libs/protocols/protos/oci.proto: LinuxResources, LinuxDeviceCgroup, LinuxMemory, LinuxCPU, LinuxPids,
 * LinuxBlockIO, LinuxWeightDevice, LinuxThrottleDevice, LinuxHugepageLimit, LinuxNetwork, LinuxInterfacePriority).
 * Keys match field names ignoring case ({@code hugepageLimits[].pageSize} → {@code Pagesize}); keys without a field
 * (e.g. {@code memory.checkBeforeUpdate}, {@code rdma}, {@code unified}) and null values are skipped. Errors as
 * {@link OciJson} describes.
 */
final class OciResourcesJson {

    private OciResourcesJson() {
    }

    static LinuxResources resources(JsonNode json, String path) {
        LinuxResources.Builder b = LinuxResources.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "devices" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addDevices(deviceCgroup(array.get(i), m.element(i)));
                    }
                }
                case "memory" -> b.setMemory(memory(m.value(), m.path()));
                case "cpu" -> b.setCPU(cpu(m.value(), m.path()));
                case "pids" -> b.setPids(pids(m.value(), m.path()));
                case "blockio" -> b.setBlockIO(blockIO(m.value(), m.path()));
                case "hugepagelimits" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addHugepageLimits(hugepageLimit(array.get(i), m.element(i)));
                    }
                }
                case "network" -> b.setNetwork(network(m.value(), m.path()));
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxDeviceCgroup deviceCgroup(JsonNode json, String path) {
        LinuxDeviceCgroup.Builder b = LinuxDeviceCgroup.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "allow" -> b.setAllow(m.bool());
                case "type" -> b.setType(m.string());
                case "major" -> b.setMajor(m.int64());
                case "minor" -> b.setMinor(m.int64());
                case "access" -> b.setAccess(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxMemory memory(JsonNode json, String path) {
        LinuxMemory.Builder b = LinuxMemory.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "limit" -> b.setLimit(m.int64());
                case "reservation" -> b.setReservation(m.int64());
                case "swap" -> b.setSwap(m.int64());
                case "kernel" -> b.setKernel(m.int64());
                case "kerneltcp" -> b.setKernelTCP(m.int64());
                case "swappiness" -> b.setSwappiness(m.int64());
                case "disableoomkiller" -> b.setDisableOOMKiller(m.bool());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxCPU cpu(JsonNode json, String path) {
        LinuxCPU.Builder b = LinuxCPU.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "shares" -> b.setShares(m.int64());
                case "quota" -> b.setQuota(m.int64());
                case "period" -> b.setPeriod(m.int64());
                case "realtimeruntime" -> b.setRealtimeRuntime(m.int64());
                case "realtimeperiod" -> b.setRealtimePeriod(m.int64());
                case "cpus" -> b.setCpus(m.string());
                case "mems" -> b.setMems(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxPids pids(JsonNode json, String path) {
        LinuxPids.Builder b = LinuxPids.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            if (m.key().equals("limit")) {
                b.setLimit(m.int64());
            }
        }
        return b.build();
    }

    private static LinuxBlockIO blockIO(JsonNode json, String path) {
        LinuxBlockIO.Builder b = LinuxBlockIO.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "weight" -> b.setWeight(m.int32());
                case "leafweight" -> b.setLeafWeight(m.int32());
                case "weightdevice" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addWeightDevice(weightDevice(array.get(i), m.element(i)));
                    }
                }
                case "throttlereadbpsdevice", "throttlewritebpsdevice", "throttlereadiopsdevice", "throttlewriteiopsdevice" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        LinuxThrottleDevice device = throttleDevice(array.get(i), m.element(i));
                        switch (m.key()) {
                            case "throttlereadbpsdevice" -> b.addThrottleReadBpsDevice(device);
                            case "throttlewritebpsdevice" -> b.addThrottleWriteBpsDevice(device);
                            case "throttlereadiopsdevice" -> b.addThrottleReadIOPSDevice(device);
                            default -> b.addThrottleWriteIOPSDevice(device);
                        }
                    }
                }
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxWeightDevice weightDevice(JsonNode json, String path) {
        LinuxWeightDevice.Builder b = LinuxWeightDevice.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "major" -> b.setMajor(m.int64());
                case "minor" -> b.setMinor(m.int64());
                case "weight" -> b.setWeight(m.int32());
                case "leafweight" -> b.setLeafWeight(m.int32());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxThrottleDevice throttleDevice(JsonNode json, String path) {
        LinuxThrottleDevice.Builder b = LinuxThrottleDevice.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "major" -> b.setMajor(m.int64());
                case "minor" -> b.setMinor(m.int64());
                case "rate" -> b.setRate(m.int64());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxHugepageLimit hugepageLimit(JsonNode json, String path) {
        LinuxHugepageLimit.Builder b = LinuxHugepageLimit.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "pagesize" -> b.setPagesize(m.string());
                case "limit" -> b.setLimit(m.int64());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxNetwork network(JsonNode json, String path) {
        LinuxNetwork.Builder b = LinuxNetwork.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "classid" -> b.setClassID(m.int32());
                case "priorities" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addPriorities(interfacePriority(array.get(i), m.element(i)));
                    }
                }
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxInterfacePriority interfacePriority(JsonNode json, String path) {
        LinuxInterfacePriority.Builder b = LinuxInterfacePriority.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "name" -> b.setName(m.string());
                case "priority" -> b.setPriority(m.int32());
                default -> { }
            }
        }
        return b.build();
    }
}
