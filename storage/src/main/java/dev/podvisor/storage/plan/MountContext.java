package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.MountInfoEntry;
import dev.podvisor.storage.spec.OciMount;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Optional;

/** One OCI mount being decided, with facts about it computed at most once. */
final class MountContext {

    private final OciMount mount;
    private final String destination;
    private final PlanBuilder plan;
    private Optional<Path> realSource;
    private Optional<EmptyDirRef> emptyDir;
    private Boolean hostBind;

    MountContext(OciMount mount, PlanBuilder plan) {
        this.mount = mount;
        this.plan = plan;
        if (PodStorageConfig.hasDotDot(mount.destination())) {
            throw new PlanException("mount destination '" + mount.destination() + "': contains '..'");
        }
        this.destination = mount.destination().startsWith("/")
                ? Path.of(mount.destination()).normalize().toString() : mount.destination();
    }

    OciMount mount() {
        return mount;
    }

    String destination() {
        return destination;
    }

    PlanBuilder plan() {
        return plan;
    }

    /** A bind whose source is a host path that is not {@code /proc}, {@code /sys} or below them. */
    boolean isHostBind() {
        if (hostBind == null) {
            if (!mount.isBind() || !mount.source().startsWith("/")) {
                hostBind = false;
            } else {
                Path s = Path.of(mount.source()).normalize();
                hostBind = !s.startsWith("/proc") && !s.startsWith("/sys");
            }
        }
        return hostBind;
    }

    /** realpath of the source, or empty when it does not exist. */
    Optional<Path> realSourceIfExists() {
        if (realSource == null) {
            try {
                realSource = Optional.of(plan.facts.realPath(Path.of(mount.source())));
            } catch (UncheckedIOException e) {
                realSource = Optional.empty();
            }
        }
        return realSource;
    }

    /**
     * realpath of the source: everything is planned against it, so a symlink or {@code ..} in the source can only
     * ever expose the path it resolves to.
     *
     * @throws PlanException when the source does not exist
     */
    Path realSource() {
        return realSourceIfExists().orElseThrow(() -> new PlanException(
                "mount " + destination + ": source '" + mount.source() + "' does not exist on the host"));
    }

    /** The volume name when the source has kubelet's emptyDir or subPath shape (not checked against the host). */
    Optional<String> kubeletVolumeName() {
        if (!isHostBind()) {
            return Optional.empty();
        }
        Path p = realSourceIfExists().orElse(null);
        if (p == null) {
            return Optional.empty();
        }
        int n = p.getNameCount();
        if (n >= 2 && p.getName(n - 2).toString().equals(EmptyDirRef.EMPTY_DIR_PLUGIN)) {
            return Optional.of(p.getName(n - 1).toString());
        }
        if (n >= 4 && p.getName(n - 4).toString().equals("volume-subpaths")) {
            return Optional.of(p.getName(n - 3).toString());
        }
        return Optional.empty();
    }

    /**
     * The emptyDir this bind comes from: its source is {@code .../volumes/kubernetes.io~empty-dir/<name>}, or a
     * subPath {@code .../volume-subpaths/<name>/<container>/<n>} whose mountinfo entry is on the same device as
     * {@code .../volumes/kubernetes.io~empty-dir/<name>} and whose {@code root} lies inside it.
     */
    Optional<EmptyDirRef> emptyDir() {
        if (emptyDir == null) {
            emptyDir = resolveEmptyDir();
        }
        return emptyDir;
    }

    private Optional<EmptyDirRef> resolveEmptyDir() {
        Optional<String> volume = kubeletVolumeName();
        if (volume.isEmpty()) {
            return Optional.empty();
        }
        Path src = realSource();
        int n = src.getNameCount();
        Path dir;
        String subdir = "";
        if (src.getName(n - 2).toString().equals(EmptyDirRef.EMPTY_DIR_PLUGIN)) {
            dir = src;
        } else {
            Path podDir = src.getRoot().resolve(src.subpath(0, n - 4));
            dir = podDir.resolve("volumes").resolve(EmptyDirRef.EMPTY_DIR_PLUGIN).resolve(volume.get());
            if (!plan.facts.stat(dir).map(s -> s.isDirectory()).orElse(false)) {
                return Optional.empty();
            }
            Optional<MountInfoEntry> bind = plan.table.at(src);
            Optional<MountInfoEntry> holder = plan.table.containing(dir);
            Optional<String> dirInFs = plan.table.pathInFilesystem(dir);
            if (bind.isEmpty() || holder.isEmpty() || dirInFs.isEmpty()
                    || bind.get().major() != holder.get().major() || bind.get().minor() != holder.get().minor()) {
                return Optional.empty();
            }
            Path root = Path.of(bind.get().root()).normalize();
            Path base = Path.of(dirInFs.get());
            if (!root.startsWith(base)) {
                return Optional.empty();
            }
            subdir = base.relativize(root).toString();
            if (PodStorageConfig.hasDotDot(subdir)) {
                return Optional.empty();
            }
        }
        MountInfoEntry dirMount = plan.table.at(dir).orElse(null);
        String medium = dirMount == null ? "disk"
                : dirMount.fsType().equals("tmpfs") ? "tmpfs"
                : dirMount.fsType().equals("hugetlbfs") ? "hugetlbfs" : "disk";
        return Optional.of(new EmptyDirRef(volume.get(), dir, subdir, dirMount, medium, src));
    }

    /**
     * Whether the resolved source is a kubelet pod volume directory or lies in one: {@code .../volumes/<plugin>/<name>}
     * where {@code <plugin>} is kubelet's escaped plugin name ({@code kubernetes.io~empty-dir},
     * {@code kubernetes.io~secret}, {@code kubernetes.io~csi}...). A subPath ({@code volume-subpaths/...}) is not:
     * kubelet makes it per container.
     */
    boolean isPodVolume() {
        Path p = isHostBind() ? realSourceIfExists().orElse(null) : null;
        if (p == null) {
            return false;
        }
        for (int i = 0; i + 2 < p.getNameCount(); i++) {
            if (p.getName(i).toString().equals("volumes") && p.getName(i + 1).toString().contains("~")) {
                return true;
            }
        }
        return false;
    }

    /** Builds the placement of this mount: the decision plus the guest bind from {@code guestPath}. */
    PlanBuilder.Placement placement(MountKind kind, String device, long sizeBytes, String rule, String reason, String guestPath) {
        return placement(kind, device, sizeBytes, mount.readOnly(), rule, reason, guestPath);
    }

    /** As above; {@code readOnly} beyond the spec's {@code ro} (a read-only device) adds {@code ro} to the guest bind. */
    PlanBuilder.Placement placement(MountKind kind, String device, long sizeBytes, boolean readOnly, String rule, String reason, String guestPath) {
        return placement(kind, device, sizeBytes, readOnly, rule, reason, guestPath, StorageScope.CONTAINER);
    }

    /** As above for a container-scoped ({@code readOnly} from the spec) or pod-scoped placement. */
    PlanBuilder.Placement placement(MountKind kind, String device, long sizeBytes, String rule, String reason, String guestPath,
                                    StorageScope scope) {
        return placement(kind, device, sizeBytes, mount.readOnly(), rule, reason, guestPath, scope);
    }

    /** The general form. */
    PlanBuilder.Placement placement(MountKind kind, String device, long sizeBytes, boolean readOnly, String rule, String reason,
                                    String guestPath, StorageScope scope) {
        MountDecision d = new MountDecision(destination, mount.source(), kind, device, sizeBytes, readOnly, rule, reason, guestPath, scope);
        OciMount guest = PlanBuilder.guestBind(mount, guestPath);
        if (readOnly && !guest.readOnly()) {
            java.util.List<String> options = new java.util.ArrayList<>(guest.options());
            options.add("ro");
            guest = new OciMount(guest.destination(), guest.type(), guest.source(), options);
        }
        return new PlanBuilder.Placement(d, guest);
    }
}
