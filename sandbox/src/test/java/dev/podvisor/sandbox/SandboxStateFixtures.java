package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.network.HostNetwork;
import dev.podvisor.storage.exec.ExecutionRecord;
import dev.podvisor.storage.exec.ExecutionRecord.Step;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Sandbox states for the format tests: a rich one (several containers whose host setup holds every step type, a
 * pod setup, cgroups, a network with two NICs, texts that need escaping, a null string in a step) and the minimal
 * initial one. Built only with constructors, so the same states could be written by the ObjectMapper-based code
 * this format was captured from.
 */
final class SandboxStateFixtures {

    private SandboxStateFixtures() {
    }

    /** A container record with every step type, one {@code pod} flag set, a null PCI path and escaped texts. */
    static ExecutionRecord everyStep(String containerId) {
        return new ExecutionRecord("sb-rich", containerId, List.of(
                new Step.RootfsMounted("/run/podvisor/shared/sb-rich/rw/" + containerId + "/rootfs"),
                new Step.ShareAcquired("kataShared", containerId + "-a1b2-hostname", "/var/lib/pods/é \"q\"/hostname",
                        true, false, false),
                new Step.ShareAcquired("kataShared", "sandbox-3f-scratch", "/var/lib/kubelet/pods/p/volumes/scratch",
                        false, true, true),
                new Step.MountPointCreated("kataShared", containerId + "/mnt/data"),
                new Step.SparseFileCreated("/var/lib/kubelet/pods/p/volumes/block/disk.img", true),
                new Step.DiskAttached("d0", "/dev/loop7", false, "_disk0", "02/00", false),
                new Step.DiskAttached("d1", "/var/lib/kubelet/pods/p/volumes/block/disk.img", true, "_disk1", null,
                        false)));
    }

    /** The pod record: a pod-scoped share and a pod-scoped disk. */
    static ExecutionRecord podRecord() {
        return new ExecutionRecord("sb-rich", "sb-rich", List.of(
                new Step.ShareAcquired("kataShared", "sandbox-3f-scratch", "/var/lib/kubelet/pods/p/volumes/scratch",
                        false, true, true),
                new Step.DiskAttached("d2", "/var/lib/kubelet/pods/p/volumes/plain/disk.img", false, "_disk2", "03/00",
                        true)));
    }

    /** The rich state, its records turned into trees by {@code toTree}. */
    static SandboxState rich(String vmDir, Function<ExecutionRecord, JsonNode> toTree) {
        Map<String, SandboxState.ContainerState> containers = new LinkedHashMap<>();
        containers.put("c-one", new SandboxState.ContainerState("/run/containerd/io.containerd.runtime.v2.task/k8s.io/c-one",
                toTree.apply(everyStep("c-one"))));
        containers.put("c-two", new SandboxState.ContainerState("/run/containerd/bundles/c-two", null));
        containers.put("c-three", new SandboxState.ContainerState("/run/containerd/bundles/c-three",
                toTree.apply(new ExecutionRecord("sb-rich", "c-three", List.of(
                        new Step.RootfsMounted("/run/podvisor/shared/sb-rich/rw/c-three/rootfs"))))));
        HostNetwork network = HostNetwork.empty("/var/run/netns/cni-1234")
                .with(new HostNetwork.Nic("eth0", "tap0_kata", true, true))
                .with(new HostNetwork.Nic("eth1", "tap1_kata", false, true));
        return new SandboxState("sb-rich", vmDir, "/run/podvisor/shared/sb-rich", 4_194_000L, List.of(4_194_001L, 77L),
                containers, toTree.apply(podRecord()),
                List.of("/sys/fs/cgroup/kata_overhead/sb-rich", "/sys/fs/cgroup/kubepods/pod1/kata_sb-rich"), network);
    }

    /** A fresh sandbox's state. */
    static SandboxState initial(String vmDir) {
        return SandboxState.initial("sb-new", vmDir, "/run/podvisor/shared/sb-new");
    }
}
