package dev.podvisor.sandbox.cgroup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One mounted cgroup hierarchy, as {@code /proc/self/mountinfo} and {@code /proc/self/cgroup} describe it.
 *
 * @param mountPoint where it is mounted ({@code /sys/fs/cgroup/cpu}, {@code /sys/fs/cgroup})
 * @param root       the mount's root inside the hierarchy (mountinfo field 4, {@code /} outside a cgroup namespace)
 * @param key        the v1 controllers as {@code /proc/self/cgroup} names them ({@code cpu,cpuacct},
 *                   {@code name=systemd}); empty for the v2 unified hierarchy
 * @param current    this process's cgroup in the hierarchy ({@code /proc/self/cgroup}), {@code /} when unknown
 */
public record Hierarchy(Path mountPoint, String root, String key, String current) {

    /** Whether this is the cgroup v2 unified hierarchy. */
    public boolean unified() {
        return key.isEmpty();
    }

    /** The directory of the hierarchy-relative cgroup {@code path} ({@code /kubepods/pod1/kata_x}). */
    public Path dir(String path) {
        String relative = path;
        if (!root.equals("/") && (path.equals(root) || path.startsWith(root + "/"))) {
            relative = path.substring(root.length());
        }
        relative = relative.replaceAll("^/+", "");
        return relative.isEmpty() ? mountPoint : mountPoint.resolve(relative);
    }

    /**
     * The hierarchies cgroups are managed in, the way containerd/cgroups and Kata choose them: every cgroup v1
     * hierarchy (controllers and named ones such as {@code name=systemd}) when any is mounted (v1 or hybrid; the
     * hybrid {@code unified} mount is left alone), else the cgroup v2 unified hierarchy.
     *
     * @param mountinfo  the text of {@code /proc/self/mountinfo}
     * @param selfCgroup the text of {@code /proc/self/cgroup}
     * @return the hierarchies; empty when no cgroup filesystem is mounted
     */
    public static List<Hierarchy> parse(String mountinfo, String selfCgroup) {
        Map<String, String> current = new HashMap<>();
        for (String line : selfCgroup.split("\n")) {
            String[] f = line.split(":", 3);
            if (f.length == 3) {
                current.put(normalise(f[1]), f[2]);
            }
        }
        List<Hierarchy> v1 = new ArrayList<>();
        Hierarchy v2 = null;
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] pre = line.substring(0, dash).split(" ");
            String[] post = line.substring(dash + 3).split(" ");
            if (pre.length < 5 || post.length < 3) {
                continue;
            }
            String root = unescape(pre[3]);
            Path mountPoint = Path.of(unescape(pre[4]));
            if (post[0].equals("cgroup")) {
                String key = normalise(Arrays.stream(post[2].split(","))
                        .filter(o -> !o.equals("rw") && !o.equals("ro") && !o.contains("=") || o.startsWith("name="))
                        .filter(o -> !o.equals("xattr") && !o.equals("clone_children") && !o.equals("noprefix"))
                        .reduce((a, b) -> a + "," + b).orElse(""));
                if (!key.isEmpty() && v1.stream().noneMatch(h -> h.key().equals(key))) {
                    v1.add(new Hierarchy(mountPoint, root, key, current.getOrDefault(key, "/")));
                }
            } else if (post[0].equals("cgroup2") && v2 == null) {
                v2 = new Hierarchy(mountPoint, root, "", current.getOrDefault("", "/"));
            }
        }
        if (!v1.isEmpty()) {
            return List.copyOf(v1);
        }
        return v2 == null ? List.of() : List.of(v2);
    }

    /** Controllers in a stable order, so {@code cpuacct,cpu} and {@code cpu,cpuacct} are one key. */
    private static String normalise(String controllers) {
        if (controllers.isEmpty()) {
            return "";
        }
        return String.join(",", new TreeSet<>(Arrays.asList(controllers.split(","))));
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String field) {
        return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
