package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.RecordedHostFacts;
import dev.podvisor.storage.spec.OciMount;
import dev.podvisor.storage.spec.OciSpec;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Benchmark (not a test): plans a container with 1,000 / 2,000 / 4,000 mounts against recorded host facts whose
 * mountinfo has about as many entries, and prints the median milliseconds per plan for each size. Goal: at most 5 ms for
 * 1,000 mounts, growing linearly. Run by {@code scripts/bench-planner.sh}. It also prints the median CPU time of the
 * planning thread, which stays meaningful on a loaded machine where wall time does not.
 *
 * <p>The mounts cycle through the kinds a big pod has: memory emptyDirs, their subPaths, disk emptyDirs, configmaps,
 * hostPaths (some read-only) and proc/tmpfs mounts.
 */
public final class PlannerBenchmark {

    private PlannerBenchmark() {
    }

    /** Builds the facts and the input for {@code n} mounts. */
    static Object[] scenario(int n) {
        RecordedHostFacts.Builder facts = RecordedHostFacts.builder().mountInfo(Fixture.MOUNTINFO)
                .statfs("/", new dev.podvisor.storage.host.FsStat(0xEF53, 4096, 1 << 20, 1 << 19))
                .statfs("/var", new dev.podvisor.storage.host.FsStat(0x58465342L, 4096, 25L << 20, 20L << 20))
                .directory(Fixture.BUNDLE + "/rootfs", 0, 0, 25);
        List<OciMount> mounts = new ArrayList<>(n);
        int id = 1000;
        for (int i = 0; i < n; i++) {
            String pod = "/var/lib/kubelet/pods/p" + (i % 7);
            switch (i % 6) {
                case 0 -> {
                    String dir = pod + "/volumes/kubernetes.io~empty-dir/mem" + i;
                    facts.mountInfo((id++) + " 20 0:" + (100 + i) + " / " + dir + " rw - tmpfs tmpfs rw,size=65536k")
                            .directory(dir, 2000, 0, 100 + i).tmpfs(dir, 64L << 20);
                    mounts.add(Fixture.bind("/mem" + i, dir));
                }
                case 1 -> {
                    int vol = i - 1;
                    String sub = "/var/lib/kubelet/pods/p" + (vol % 7) + "/volume-subpaths/mem" + vol + "/app/" + i;
                    facts.mountInfo((id++) + " 20 0:" + (100 + vol) + " /sub" + i + " " + sub + " rw - tmpfs tmpfs rw,size=65536k");
                    mounts.add(Fixture.bind("/sub" + i, sub));
                }
                case 2 -> {
                    String dir = pod + "/volumes/kubernetes.io~empty-dir/disk" + i;
                    facts.directory(dir, 0, 8, 2);
                    mounts.add(Fixture.bind("/disk" + i, dir));
                }
                case 3 -> {
                    String dir = pod + "/volumes/kubernetes.io~configmap/cm" + i;
                    facts.mountInfo((id++) + " 20 0:" + (100 + i) + " / " + dir + " rw - tmpfs tmpfs rw");
                    mounts.add(Fixture.bind("/etc/cm" + i, dir, "ro"));
                }
                case 4 -> {
                    String dir = "/srv/host" + i;
                    facts.directory(dir, 0, 8, 1);
                    mounts.add(Fixture.bind("/host" + i, dir, i % 4 == 0 ? "ro" : "rw"));
                }
                default -> mounts.add(new OciMount("/tmp" + i, "tmpfs", "tmpfs", List.of("nosuid", "size=1m")));
            }
        }
        OciSpec spec = Fixture.spec(mounts, 0);
        PlanInput in = new PlanInput(PlannerSettings.defaults(), "sb1", "c1", false, Map.of(), spec,
                List.of(new RootfsMount("overlay", "overlay", List.of("lowerdir=/l"))), Path.of(Fixture.BUNDLE));
        return new Object[] {facts.build(), in};
    }

    /**
     * Runs the benchmark.
     *
     * @param args optional sizes (default 1000 2000 4000)
     */
    public static void main(String[] args) {
        int[] sizes = args.length == 0 ? new int[] {1000, 2000, 4000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        for (int n : sizes) {
            Object[] s = scenario(n);
            RecordedHostFacts facts = (RecordedHostFacts) s[0];
            PlanInput in = (PlanInput) s[1];
            // warm up for 3 s (at least 100 plans): with a fixed 100, C2 sometimes had not finished compiling the
            // planner's paths and the median of the same code moved between 4.5 and 8.7 ms from run to run
            long warmUntil = System.nanoTime() + 3_000_000_000L;
            for (int i = 0; i < 100 || System.nanoTime() < warmUntil; i++) {
                StoragePlanner.plan(in, facts);
            }
            int runs = 101;
            double[] ms = new double[runs];
            double[] cpu = new double[runs];
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            int sink = 0;
            for (int i = 0; i < runs; i++) {
                long c0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                StoragePlan p = StoragePlanner.plan(in, facts);
                ms[i] = (System.nanoTime() - t0) / 1e6;
                cpu[i] = (threads.getCurrentThreadCpuTime() - c0) / 1e6;
                sink += p.mounts().size();
            }
            Arrays.sort(ms);
            Arrays.sort(cpu);
            System.out.printf("mounts=%d median_ms=%.3f p90_ms=%.3f median_cpu_ms=%.3f (decisions %d)%n",
                    n, ms[runs / 2], ms[runs * 9 / 10], cpu[runs / 2], sink / runs);
        }
    }
}
