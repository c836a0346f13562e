package dev.podvisor.sandbox.cgroup;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * An OCI {@code linux.cgroupsPath} as containerd and runc read it, and the cgroups Kata derives from it.
 *
 * <ul>
 *   <li><b>systemd</b> ({@code slice:prefix:name}, Kata {@code IsSystemdCgroup}: three {@code [\w.-]*} fields): the
 *       slice is expanded as runc/systemd do ({@code kubepods-besteffort-pod1.slice} becomes
 *       {@code /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice}; an empty slice is
 *       {@code system.slice}, {@code -.slice} the root), the unit is {@code <prefix>-<name>.scope} ({@code <name>.scope}
 *       without a prefix, the name itself when it ends in {@code .slice}); Kata keeps the name (no {@code kata_}).</li>
 *   <li><b>cgroupfs</b>: an absolute path is cleaned; a relative one is placed under Kata's
 *       {@code DefaultResourceControllerID} {@code /vc}; the sandbox cgroup is the path with its last element
 *       renamed {@code kata_<base>} (Kata resourcecontrol {@code RenameCgroupPath}, so cAdvisor does not take the
 *       VM for a container).</li>
 * </ul>
 * The overhead cgroup of {@code sandbox_cgroup_only = false} is {@code /kata_overhead/<sandbox id>} (Kata
 * {@code resCtrlKataOverheadID}), always cgroupfs-style.
 *
 * @param systemd  whether the spec used the systemd form
 * @param path     the hierarchy-relative absolute path the spec names (for systemd: the expanded slice and unit)
 */
public record CgroupsPath(boolean systemd, String path) {

    /** Kata's prefix of the cgroups it manages. */
    public static final String KATA_PREFIX = "kata";
    /** Kata's parent of the overhead cgroups. */
    public static final String OVERHEAD_PARENT = "/kata_overhead";
    /** Kata's default resource controller id, for a relative or empty path. */
    public static final String DEFAULT_ID = "/vc";

    private static final Pattern SYSTEMD = Pattern.compile("^[\\w.-]*:[\\w.-]*:[\\w.-]*$");
    private static final Pattern SAFE = Pattern.compile("^[\\w.:-]+$");

    /**
     * Parses {@code linux.cgroupsPath}.
     *
     * @throws IllegalArgumentException naming the field and value for a malformed systemd slice or a path with
     *                                  {@code ..}
     */
    public static CgroupsPath parse(String cgroupsPath) {
        String value = cgroupsPath == null ? "" : cgroupsPath;
        if (SYSTEMD.matcher(value).matches() && value.chars().filter(c -> c == ':').count() == 2) {
            String[] parts = value.split(":", -1);
            String slice = parts[0].isEmpty() ? "system.slice" : parts[0];
            String unit = unitName(value, parts[1], parts[2]);
            String parent = expandSlice(value, slice);
            return new CgroupsPath(true, (parent.equals("/") ? "" : parent) + "/" + unit);
        }
        for (String element : value.split("/")) {
            if (element.equals("..")) {
                throw new IllegalArgumentException("linux.cgroupsPath '" + value + "': contains '..'");
            }
        }
        String absolute = value.startsWith("/") ? value : DEFAULT_ID + (value.isEmpty() ? "" : "/" + value);
        String clean = Path.of(absolute).normalize().toString();
        return new CgroupsPath(false, clean);
    }

    /**
     * The sandbox cgroup: {@code <dir>/kata_<base>} for cgroupfs, the path itself for systemd (Kata
     * {@code createResourceController}).
     */
    public String sandboxCgroup() {
        if (systemd) {
            return path;
        }
        Path p = Path.of(path);
        Path base = p.getFileName();
        String name = KATA_PREFIX + "_" + (base == null ? DEFAULT_ID.substring(1) : base.toString());
        Path parent = p.getParent() == null ? Path.of("/") : p.getParent();
        return parent.resolve(name).toString();
    }

    /** The overhead cgroup {@code /kata_overhead/<sandboxId>}. */
    public static String overheadCgroup(String sandboxId) {
        if (!SAFE.matcher(sandboxId).matches()) {
            throw new IllegalArgumentException("sandbox id '" + sandboxId + "': not usable in a cgroup name");
        }
        return OVERHEAD_PARENT + "/" + sandboxId;
    }

    private static String unitName(String value, String prefix, String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("linux.cgroupsPath '" + value + "': systemd form without a name");
        }
        if (name.endsWith(".slice")) {
            return name;
        }
        return (prefix.isEmpty() ? "" : prefix + "-") + name + ".scope";
    }

    /** runc's {@code ExpandSlice}: {@code a-b-c.slice} is {@code /a.slice/a-b.slice/a-b-c.slice}. */
    static String expandSlice(String value, String slice) {
        String suffix = ".slice";
        if (!slice.endsWith(suffix) || slice.length() < suffix.length() || slice.contains("/")) {
            throw new IllegalArgumentException("linux.cgroupsPath '" + value + "': invalid slice name '" + slice + "'");
        }
        if (slice.equals("-.slice")) {
            return "/";
        }
        String name = slice.substring(0, slice.length() - suffix.length());
        if (name.isEmpty() || name.startsWith("-") || name.endsWith("-") || name.contains("--")) {
            throw new IllegalArgumentException("linux.cgroupsPath '" + value + "': invalid slice name '" + slice + "'");
        }
        List<String> levels = new ArrayList<>();
        StringBuilder prefix = new StringBuilder();
        for (String component : name.split("-")) {
            if (!prefix.isEmpty()) {
                prefix.append('-');
            }
            prefix.append(component);
            levels.add(prefix + suffix);
        }
        return "/" + String.join("/", levels);
    }
}
