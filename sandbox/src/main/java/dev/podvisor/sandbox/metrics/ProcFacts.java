package dev.podvisor.sandbox.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One reading of a process's {@code /proc/<pid>} files, with the item names Kata's metrics use
 * (kata-containers: src/runtime/pkg/utils/metrics.go, via prometheus/procfs): {@code status} sizes in bytes
 * ({@code vmrss}, {@code rssanon}...), {@code stat} counters ({@code utime} and {@code stime} in clock ticks,
 * {@code minflt}, {@code majflt}, {@code vsize} in bytes, {@code rss} in pages), {@code io} counters
 * ({@code rchar}, {@code readbytes}...), open fds and threads. A file that cannot be read (the process is gone,
 * or {@code io} is not readable) leaves its items out.
 *
 * @param status  {@code /proc/<pid>/status} items
 * @param stat    {@code /proc/<pid>/stat} items
 * @param io      {@code /proc/<pid>/io} items
 * @param fds     entries in {@code /proc/<pid>/fd}, -1 when unreadable
 * @param threads {@code num_threads} from {@code stat}, -1 when unreadable
 */
public record ProcFacts(Map<String, Double> status, Map<String, Double> stat, Map<String, Double> io, long fds,
                        long threads) {

    /** The {@code status} items reported, lower-cased as Kata reports them. */
    public static final List<String> STATUS_ITEMS = List.of("vmpeak", "vmsize", "vmlck", "vmpin", "vmhwm", "vmrss",
            "rssanon", "rssfile", "rssshmem", "vmdata", "vmstk", "vmexe", "vmlib", "vmpte", "vmswap");
    /** The {@code stat} items reported. */
    public static final List<String> STAT_ITEMS = List.of("utime", "stime", "cutime", "cstime", "minflt", "majflt",
            "vsize", "rss");
    /** The {@code io} items reported. */
    public static final List<String> IO_ITEMS = List.of("rchar", "wchar", "syscr", "syscw", "readbytes",
            "writebytes", "cancelledwritebytes");

    /** Reads {@code <proc>/<pid>}; never throws. */
    public static ProcFacts read(Path proc, long pid) {
        Path dir = proc.resolve(Long.toString(pid));
        Map<String, Double> stat = parseStat(readQuietly(dir.resolve("stat")));
        long threads = stat.containsKey("num_threads") ? stat.remove("num_threads").longValue() : -1;
        return new ProcFacts(parseStatus(readQuietly(dir.resolve("status"))), stat,
                parseIo(readQuietly(dir.resolve("io"))), countFds(dir.resolve("fd")), threads);
    }

    static Map<String, Double> parseStatus(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon).toLowerCase();
            if (!STATUS_ITEMS.contains(key)) {
                continue;
            }
            String[] value = line.substring(colon + 1).trim().split("\\s+");
            try {
                double number = Double.parseDouble(value[0]);
                out.put(key, value.length > 1 && value[1].equals("kB") ? number * 1024 : number);
            } catch (NumberFormatException ignored) {
                // not a number: leave the item out
            }
        }
        return out;
    }

    /** Fields after the command (which may hold spaces), numbered as proc(5) numbers them. */
    static Map<String, Double> parseStat(String text) {
        Map<String, Double> out = new HashMap<>();
        int close = text.lastIndexOf(')');
        if (close < 0) {
            return out;
        }
        String[] f = text.substring(close + 1).trim().split("\\s+");
        // f[0] is field 3 (state); field n is f[n - 3]
        int[] fields = {10, 12, 14, 15, 16, 17, 20, 23, 24};
        String[] names = {"minflt", "majflt", "utime", "stime", "cutime", "cstime", "num_threads", "vsize", "rss"};
        for (int i = 0; i < fields.length; i++) {
            int index = fields[i] - 3;
            if (index < f.length) {
                try {
                    out.put(names[i], Double.parseDouble(f[index]));
                } catch (NumberFormatException ignored) {
                    // leave it out
                }
            }
        }
        return out;
    }

    static Map<String, Double> parseIo(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String key = line.substring(0, colon).replace("_", "");
            if (IO_ITEMS.contains(key)) {
                try {
                    out.put(key, Double.parseDouble(line.substring(colon + 1).trim()));
                } catch (NumberFormatException ignored) {
                    // leave it out
                }
            }
        }
        return out;
    }

    private static long countFds(Path fdDir) {
        try (var entries = Files.list(fdDir)) {
            return entries.count();
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static String readQuietly(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
