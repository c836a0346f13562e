package dev.podvisor.sandbox.metrics;

import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.storage.plan.MountDecision;
import dev.podvisor.storage.plan.MountKind;
import dev.podvisor.storage.plan.RootfsDecision;
import dev.podvisor.storage.plan.StoragePlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PodMetricsTest {

    static StoragePlan plan(String containerId) {
        MountDecision tmpfs = new MountDecision("/data", "/v/empty-dir/data", MountKind.GUEST_TMPFS, "", 64L << 20,
                false, "emptydir-tmpfs", "host tmpfs", "/run/kata-containers/sandbox/ephemeral/data");
        MountDecision share = new MountDecision("/disk", "/v/empty-dir/disk", MountKind.VIRTIO_FS, "kataShared", 0,
                false, "emptydir-disk", "host disk", "/run/kata-containers/shared/containers/x");
        RootfsDecision rootfs = new RootfsDecision(MountKind.VIRTIO_FS, true, "/run/kata-containers/shared/containers/"
                + containerId + "/rootfs", "kataShared", "/rw/" + containerId, "rootfs-overlay", "overlay");
        MountDecision shm = new MountDecision("/dev/shm", "shm", MountKind.GUEST_TMPFS, "", 64L << 20, false, "dev-shm",
                "sandbox shm", "/run/kata-containers/sandbox/shm");
        return new StoragePlan("pod", containerId, rootfs, List.of(tmpfs, share, shm), List.of(), List.of(), List.of(),
                List.of(), List.of(), List.of(), "/");
    }

    @Test
    void scrapeShowsRpcDurationsPlannerCountsAndCriLabels(@TempDir Path proc) {
        PodMetrics metrics = PodMetrics.of(PodMetrics.criLabels(Map.of("io.kubernetes.cri.sandbox-name", "web",
                "io.kubernetes.cri.sandbox-namespace", "shop", "unrelated", "x")), proc);
        metrics.taskRpc("Create", 3_000_000);
        metrics.taskRpc("Create", 700_000_000);
        metrics.planned(plan("a"));
        metrics.planned(plan("b"));
        metrics.planFailed("direct-volume");
        metrics.hotplugged("disk", Duration.ofMillis(30));

        String text = metrics.scrape();
        assertTrue(text.contains("# TYPE kata_shim_rpc_durations_histogram_milliseconds histogram"), text);
        assertTrue(text.contains("kata_shim_rpc_durations_histogram_milliseconds_bucket{action=\"create\","
                + "cri_name=\"web\",cri_namespace=\"shop\",le=\"4.0\"} 1"), text);
        assertTrue(text.contains("kata_shim_rpc_durations_histogram_milliseconds_count{action=\"create\","
                + "cri_name=\"web\",cri_namespace=\"shop\"} 2"), text);
        assertTrue(text.contains("podvisor_planner_mounts_total{cri_name=\"web\",cri_namespace=\"shop\","
                + "kind=\"guest-tmpfs\",rule=\"emptydir-tmpfs\"} 2.0"), text);
        assertTrue(text.contains("podvisor_planner_mounts_total{cri_name=\"web\",cri_namespace=\"shop\","
                + "kind=\"virtio-fs\",rule=\"emptydir-disk\"} 2.0"), text);
        assertTrue(text.contains("podvisor_planner_plan_errors_total{cri_name=\"web\",cri_namespace=\"shop\","
                + "rule=\"direct-volume\"} 1.0"), text);
        assertTrue(text.contains("podvisor_guest_tmpfs_bytes{cri_name=\"web\",cri_namespace=\"shop\"} "
                + (double) (2 * (64L << 20))), text);
        assertTrue(text.contains("podvisor_device_hotplug_duration_seconds_count{cri_name=\"web\",cri_namespace=\"shop\","
                + "device=\"disk\"} 1"), text);

        metrics.released("a");
        assertTrue(metrics.scrape().contains("podvisor_guest_tmpfs_bytes{cri_name=\"web\",cri_namespace=\"shop\"} "
                + (double) (64L << 20)));
    }

    @Test
    void hypervisorAndVirtiofsdGaugesFollowTheirProcessesAfterBoot(@TempDir Path proc) throws IOException {
        ProcFactsTest.fakeProcess(proc, 4242);
        PodMetrics metrics = PodMetrics.of(Map.of(), proc);
        assertTrue(metrics.scrape().contains("kata_hypervisor_threads NaN"), "no VMM before boot");
        metrics.sandboxBooted(new SandboxProbe(proc, () -> 4242, () -> 0, () -> "", "hvsock://x"));
        String text = metrics.scrape();
        assertTrue(text.contains("kata_hypervisor_threads 5.0"), text);
        assertTrue(text.contains("kata_hypervisor_fds 3.0"), text);
        assertTrue(text.contains("kata_hypervisor_proc_status{item=\"vmrss\"} 1024000.0"), text);
        assertTrue(text.contains("kata_hypervisor_io_stat{item=\"rchar\"} 10.0"), text);
        assertTrue(text.contains("kata_virtiofsd_threads NaN"), text);
    }

    @Test
    void agentMetricsAreAppendedRenamedAndLabelled(@TempDir Path proc) {
        PodMetrics metrics = PodMetrics.of(Map.of("cri_name", "web"), proc);
        metrics.sandboxBooted(new SandboxProbe(proc, () -> 0, () -> 0,
                () -> "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n", "hvsock://x"));
        String text = metrics.scrape();
        assertTrue(text.contains("# TYPE kata_agent_process_cpu_seconds_total counter\n"
                + "kata_agent_process_cpu_seconds_total{cri_name=\"web\"} 1.5\n"), text);
    }

    @Test
    void anAgentWithoutGetMetricsIsNotAskedAgain(@TempDir Path proc) {
        AtomicInteger asked = new AtomicInteger();
        PodMetrics metrics = PodMetrics.of(Map.of(), proc);
        metrics.sandboxBooted(new SandboxProbe(proc, () -> 0, () -> 0, () -> {
            asked.incrementAndGet();
            throw new TtrpcException(Code.UNIMPLEMENTED, "GetMetrics");
        }, "hvsock://x"));
        String first = metrics.scrape();
        metrics.scrape();
        assertEquals(1, asked.get());
        assertFalse(first.contains("kata_agent"), first);
        assertTrue(first.contains("kata_shim_threads"), first);
    }

    @Test
    void bootListenersHearTheProbe(@TempDir Path proc) {
        PodMetrics metrics = PodMetrics.of(Map.of(), proc);
        SandboxProbe[] heard = new SandboxProbe[1];
        metrics.onSandboxBooted(probe -> heard[0] = probe);
        SandboxProbe probe = new SandboxProbe(proc, () -> 1, () -> 2, () -> "", "hvsock://x");
        metrics.sandboxBooted(probe);
        assertEquals(probe, heard[0]);
        assertEquals(proc.resolve("sid/shim-monitor.sock"), probe.socket("sid"));
    }
}
