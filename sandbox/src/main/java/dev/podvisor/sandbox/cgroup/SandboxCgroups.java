package dev.podvisor.sandbox.cgroup;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.log.LogfmtLog;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Where the sandbox's processes go, from the sandbox container's bundle: reads {@code linux.cgroupsPath} (kubelet's
 * pod cgroup parent plus the sandbox id, as containerd's CRI writes it) and places the shim with {@link Cgroups} on
 * the live cgroup filesystems. A spec without a {@code cgroupsPath} gets no placement: the shim stays where
 * containerd started it (Kata would fall back to a shared {@code /vc}).
 */
public final class SandboxCgroups {


    private SandboxCgroups() {
    }

    /**
     * Places this process (the shim daemon) for the sandbox of {@code bundle}.
     *
     * @return the owner of the cgroups made, or empty when the spec names no cgroup or no cgroup filesystem is
     *         mounted
     * @throws IllegalArgumentException for a malformed {@code linux.cgroupsPath} (named with its value)
     * @throws UncheckedIOException     when the cgroups cannot be made or joined (nothing is left behind)
     */
    public static Optional<Cgroups> place(Path bundle, String sandboxId, boolean sandboxCgroupOnly, LogfmtLog log) {
        String cgroupsPath = cgroupsPath(bundle);
        if (cgroupsPath.isEmpty()) {
            log.info("no linux.cgroupsPath in the sandbox spec; the shim stays in its cgroup");
            return Optional.empty();
        }
        CgroupsPath path = CgroupsPath.parse(cgroupsPath);
        List<Hierarchy> hierarchies = Hierarchy.parse(read("/proc/self/mountinfo"), read("/proc/self/cgroup"));
        if (hierarchies.isEmpty()) {
            log.warn("no cgroup filesystem mounted; the sandbox is not placed", "cgroups_path", cgroupsPath);
            return Optional.empty();
        }
        Cgroups cgroups = Cgroups.place(path, sandboxId, sandboxCgroupOnly, ProcessHandle.current().pid(), hierarchies,
                CgroupFiles.LIVE);
        log.info("sandbox cgroups placed", "cgroups_path", cgroupsPath, "sandbox_cgroup", cgroups.sandboxCgroup(),
                "shim_cgroup", cgroups.shimCgroup(), "sandbox_cgroup_only", sandboxCgroupOnly,
                "version", hierarchies.getFirst().unified() ? "v2" : "v1");
        return Optional.of(cgroups);
    }

    /** Releases {@code cgroups} for this process, logging what could not be removed. */
    public static void release(Cgroups cgroups, LogfmtLog log) {
        cgroups.release(ProcessHandle.current().pid(), Cgroups.RMDIR_PATIENCE,
                message -> log.warn("cgroup cleanup", "error", message));
    }

    /**
     * Removes persisted cgroup directories (creation order) after the daemon is gone ({@code delete}): what is
     * still in them belonged to the sandbox and is killed; each directory is waited for at most
     * {@value #DELETE_PATIENCE_MILLIS} ms (containerd gives {@code delete} 5 s in all).
     */
    public static void removeRecorded(List<String> createdInOrder, LogfmtLog log) {
        List<String> deepestFirst = new java.util.ArrayList<>(createdInOrder);
        java.util.Collections.reverse(deepestFirst);
        Cgroups.removeKillingStragglers(deepestFirst, CgroupFiles.LIVE, java.time.Duration.ofMillis(DELETE_PATIENCE_MILLIS),
                message -> log.warn("cgroup cleanup", "error", message));
    }

    /** How long {@code delete} waits for one cgroup to empty. */
    static final long DELETE_PATIENCE_MILLIS = 500;

    /** {@code linux.cgroupsPath} of the bundle's spec, empty when absent. */
    static String cgroupsPath(Path bundle) {
        try {
            JsonNode spec = JsonTrees.parse(bundle.resolve("config.json"));
            return spec.path("linux").path("cgroupsPath").asText("");
        } catch (IOException e) {
            throw new IllegalArgumentException(bundle.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file));
        } catch (IOException e) {
            return "";
        }
    }
}
