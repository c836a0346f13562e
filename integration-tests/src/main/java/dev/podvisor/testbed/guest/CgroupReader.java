package dev.podvisor.testbed.guest;

import dev.podvisor.protocols.agent.CgroupStats;
import dev.podvisor.protocols.agent.CpuStats;
import dev.podvisor.protocols.agent.CpuUsage;
import dev.podvisor.protocols.agent.MemoryData;
import dev.podvisor.protocols.agent.MemoryStats;
import dev.podvisor.protocols.agent.Uint64Entry;
import dev.podvisor.protocols.agent.PidsStats;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest's {@code StatsContainer}: the container's cgroup v1 counters (memory, cpuacct, pids under the
 * container's cgroup path), read the way the kata agent reads them. A missing controller or file gives 0,
 * as on a guest kernel without it.
 */
final class CgroupReader {

    private static final Path ROOT = Path.of("/sys/fs/cgroup");
    /** cpuacct.stat counts USER_HZ ticks; 100 per second on Linux. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private CgroupReader() {
    }

    /** The stats of the cgroup at {@code cgroupPath} (e.g. {@code /podvisor-testbed/<vm>/<cid>}). */
    static CgroupStats read(String cgroupPath) {
        String relative = cgroupPath.startsWith("/") ? cgroupPath.substring(1) : cgroupPath;
        Path memory = ROOT.resolve("memory").resolve(relative);
        Path cpuacct = ROOT.resolve("cpuacct").resolve(relative);
        Path pids = ROOT.resolve("pids").resolve(relative);
        MemoryStats.Builder memoryStats = MemoryStats.newBuilder()
                .setUsage(MemoryData.newBuilder().setUsage(number(memory.resolve("memory.usage_in_bytes")))
                        .setMaxUsage(number(memory.resolve("memory.max_usage_in_bytes")))
                        .setFailcnt(number(memory.resolve("memory.failcnt")))
                        .setLimit(number(memory.resolve("memory.limit_in_bytes"))))
                .setUseHierarchy(number(memory.resolve("memory.use_hierarchy")) == 1);
        for (String line : lines(memory.resolve("memory.stat"))) {
            String[] kv = line.split(" ");
            if (kv.length == 2) {
                memoryStats.addStats(Uint64Entry.newBuilder().setKey(kv[0]).setValue(parse(kv[1])));
                if (kv[0].equals("cache")) {
                    memoryStats.setCache(parse(kv[1]));
                }
            }
        }
        CpuUsage.Builder cpu = CpuUsage.newBuilder().setTotalUsage(number(cpuacct.resolve("cpuacct.usage")));
        for (String line : lines(cpuacct.resolve("cpuacct.usage_percpu"))) {
            for (String value : line.trim().split("\\s+")) {
                if (!value.isEmpty()) {
                    cpu.addPercpuUsage(parse(value));
                }
            }
        }
        for (String line : lines(cpuacct.resolve("cpuacct.stat"))) {
            String[] kv = line.split(" ");
            if (kv.length == 2 && kv[0].equals("user")) {
                cpu.setUsageInUsermode(parse(kv[1]) * NANOS_PER_TICK);
            } else if (kv.length == 2 && kv[0].equals("system")) {
                cpu.setUsageInKernelmode(parse(kv[1]) * NANOS_PER_TICK);
            }
        }
        return CgroupStats.newBuilder()
                .setMemoryStats(memoryStats)
                .setCpuStats(CpuStats.newBuilder().setCpuUsage(cpu))
                .setPidsStats(PidsStats.newBuilder().setCurrent(number(pids.resolve("pids.current")))
                        .setLimit(number(pids.resolve("pids.max"))))
                .build();
    }

    private static long number(Path file) {
        List<String> lines = lines(file);
        return lines.isEmpty() ? 0 : parse(lines.getFirst().trim());
    }

    private static long parse(String value) {
        try {
            return Long.parseUnsignedLong(value.trim());
        } catch (NumberFormatException e) {
            return 0; // "max" (no limit) and the like
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            return new ArrayList<>();
        }
    }
}
