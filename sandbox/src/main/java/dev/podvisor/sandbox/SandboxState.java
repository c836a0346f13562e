package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.network.HostNetwork;
import dev.podvisor.storage.json.JsonTrees;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code delete} needs to undo a pod when its daemon is gone, persisted as
 * {@code <state dir>/<sandbox id>/sandbox.json} after every change (written to a temp file, then renamed), in
 * the shape {@link SandboxStateJson} documents (the one databind wrote before, so a {@code delete} of one build
 * reads the state another build's daemon left).
 *
 * @param sandboxId      the sandbox id
 * @param vmDir          the directory of the VM's sockets and logs
 * @param shareRoot      {@code <shared root>/<sandbox id>}, holding {@code rw/} and its read-only bind {@code ro/}
 * @param vmmPid         the cloud-hypervisor process, 0 before it started
 * @param virtiofsdPids  the virtiofsd processes
 * @param containers     per container id, in the order they were added: its bundle and what its storage set up
 *                       on the host (the executed plan as JSON, undone by {@link SandboxCleanup})
 * @param podSetup       what the sandbox holds for the pod's volumes (pod-scoped shares and disks, the executor's
 *                       pod record as JSON), released when the sandbox ends; null when none
 * @param cgroups        the cgroups Podvisor created for this sandbox (absolute paths, removed at teardown and by
 *                       {@code delete}), empty when none
 * @param network        what Podvisor created in the pod netns (tap, qdiscs, filters), undone on teardown and by
 *                       {@link SandboxCleanup}; null when the pod has no network
 */
public record SandboxState(String sandboxId, String vmDir, String shareRoot, long vmmPid, List<Long> virtiofsdPids,
                           Map<String, ContainerState> containers, JsonNode podSetup, List<String> cgroups,
                           HostNetwork network) {

    /**
     * @param bundle     the container's bundle
     * @param hostSetup  the executed storage plan (host mounts, shares, disks) as JSON, or null
     */
    public record ContainerState(String bundle, JsonNode hostSetup) {
    }

    public SandboxState {
        virtiofsdPids = List.copyOf(virtiofsdPids);
        containers.forEach((id, container) -> Objects.requireNonNull(container, Objects.requireNonNull(id, "id")));
        containers = Collections.unmodifiableMap(new LinkedHashMap<>(containers));
        cgroups = cgroups == null ? List.of() : List.copyOf(cgroups);
    }

    /** A fresh state: no process, container, pod setup or cgroup yet. */
    public static SandboxState initial(String sandboxId, String vmDir, String shareRoot) {
        return new SandboxState(sandboxId, vmDir, shareRoot, 0, List.of(), Map.of(), null, List.of(), null);
    }

    /** A state without pod setup, cgroups or network wiring. */
    public SandboxState(String sandboxId, String vmDir, String shareRoot, long vmmPid, List<Long> virtiofsdPids,
                        Map<String, ContainerState> containers) {
        this(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, containers, null, List.of(), null);
    }

    static final String FILE = "sandbox.json";

    public SandboxState withContainer(String id, ContainerState container) {
        Map<String, ContainerState> copy = new LinkedHashMap<>(containers);
        copy.put(id, container);
        return new SandboxState(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, copy, podSetup, cgroups, network);
    }

    public SandboxState withoutContainer(String id) {
        Map<String, ContainerState> copy = new LinkedHashMap<>(containers);
        copy.remove(id);
        return new SandboxState(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, copy, podSetup, cgroups, network);
    }

    public SandboxState withProcesses(long vmm, List<Long> virtiofsd) {
        return new SandboxState(sandboxId, vmDir, shareRoot, vmm, virtiofsd, containers, podSetup, cgroups, network);
    }

    public SandboxState withPodSetup(JsonNode setup) {
        return new SandboxState(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, containers, setup, cgroups, network);
    }

    public SandboxState withCgroups(List<String> created) {
        return new SandboxState(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, containers, podSetup, created, network);
    }

    /** This state with the pod netns wiring {@code wired} (null: none). */
    public SandboxState withNetwork(HostNetwork wired) {
        return new SandboxState(sandboxId, vmDir, shareRoot, vmmPid, virtiofsdPids, containers, podSetup, cgroups, wired);
    }

    /**
     * Writes the state into {@code vmDir/sandbox.json} atomically, as pretty JSON (Jackson's default indentation).
     *
     * @throws UncheckedIOException naming the directory when it cannot be written
     */
    public void save() {
        Path dir = Path.of(vmDir);
        try {
            Files.createDirectories(dir);
            Path temp = dir.resolve(FILE + ".tmp");
            Files.writeString(temp, JsonTrees.toString(SandboxStateJson.write(this), true), StandardCharsets.UTF_8);
            Files.move(temp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("saving sandbox state in " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads {@code vmDir/sandbox.json}; empty when there is none.
     *
     * @throws UncheckedIOException naming the file, and the field and value at fault, when it cannot be read, is
     *                              not JSON or not of the shape {@link SandboxStateJson} documents
     */
    public static Optional<SandboxState> load(Path vmDir) {
        Path file = vmDir.resolve(FILE);
        try {
            return Optional.of(SandboxStateJson.read(JsonTrees.parse(file)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading sandbox state " + file + ": " + e.getMessage(), e);
        }
    }
}
