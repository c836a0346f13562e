package dev.podvisor.it.snapshotter;

import dev.podvisor.it.snapshotter.api.Kind;
import dev.podvisor.protocols.containerd.types.Mount;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bookkeeping of the proxy snapshotter: snapshots by name, in memory, each an image file under one directory
 * ({@code <dir>/<n>.img}; names hold slashes). Active and view snapshots are attached to a loop device and handed
 * out as one {@code {type: "ext4", source: "/dev/loopN", options: ["rw"|"ro"]}} mount: a block device, the shape
 * containerd's devmapper snapshotter hands out. A child starts as a copy of its committed parent; commit detaches
 * the device and keeps the image; remove detaches and deletes it. Thread-safe (one lock).
 *
 * <p>Errors are gRPC statuses with the codes containerd's {@code errdefs} maps back (containerd
 * {@code snapshots/storage}): {@code NOT_FOUND} (no such key or parent), {@code ALREADY_EXISTS} (key or commit
 * name taken), {@code FAILED_PRECONDITION} (mounts of or commit from a committed snapshot, removing a parent),
 * {@code INVALID_ARGUMENT} (empty key, a parent that is not committed, an unknown update field),
 * {@code INTERNAL} (a host command failed; nothing of the call is left then).
 */
final class SnapshotStore implements AutoCloseable {

    private final Path dir;
    private final ImageDisks disks;
    private final Map<String, Snapshot> byName = new LinkedHashMap<>();
    private int nextImage;

    /**
     * @param dir   an existing directory for the image files (the store deletes what it created there)
     * @param disks the disk operations ({@link LoopImageDisks} for real)
     */
    SnapshotStore(Path dir, ImageDisks disks) {
        this.dir = dir;
        this.disks = disks;
    }

    /**
     * Prepare (active, read-write) or View (read-only).
     *
     * @param key    the new snapshot's key
     * @param parent a committed snapshot's name, or empty
     * @param labels containerd's labels
     * @param view   true for View
     * @return the mounts of the new snapshot
     */
    synchronized List<Mount> create(String key, String parent, Map<String, String> labels, boolean view) {
        requireKey(key);
        if (byName.containsKey(key)) {
            throw status(Status.ALREADY_EXISTS, "snapshot " + key + ": already exists");
        }
        Snapshot from = null;
        if (!parent.isEmpty()) {
            from = require(parent, "parent snapshot");
            if (from.kind() != Kind.COMMITTED) {
                throw status(Status.INVALID_ARGUMENT, "parent " + parent + " is not a committed snapshot (" + from.kind() + ")");
            }
        }
        Path image = dir.resolve(nextImage++ + ".img");
        String device;
        try {
            if (from == null) {
                disks.create(image);
            } else {
                disks.copy(from.image(), image);
            }
            device = disks.attach(image, view);
        } catch (RuntimeException e) {
            deleteQuietly(image, e);
            throw status(Status.INTERNAL, "snapshot " + key + ": " + e.getMessage());
        }
        Instant now = Instant.now();
        Snapshot s = new Snapshot(key, parent, view ? Kind.VIEW : Kind.ACTIVE, labels, now, now, image, device);
        byName.put(key, s);
        return mountsOf(s);
    }

    /**
     * @param key an active or view snapshot
     * @return its mounts
     */
    synchronized List<Mount> mounts(String key) {
        Snapshot s = require(key, "snapshot");
        if (s.device() == null) {
            throw status(Status.FAILED_PRECONDITION, "snapshot " + key + " is " + s.kind() + ", not active or view: no mounts");
        }
        return mountsOf(s);
    }

    /**
     * Commits an active snapshot: its device is detached and its image becomes the committed snapshot {@code name}.
     *
     * @param name   the committed name
     * @param key    the active snapshot
     * @param labels the committed snapshot's labels
     */
    synchronized void commit(String name, String key, Map<String, String> labels) {
        Snapshot s = require(key, "snapshot");
        if (s.kind() != Kind.ACTIVE) {
            throw status(Status.FAILED_PRECONDITION, "snapshot " + key + " is " + s.kind() + ", not active: cannot commit");
        }
        requireKey(name);
        if (byName.containsKey(name)) {
            throw status(Status.ALREADY_EXISTS, "snapshot " + name + ": already exists");
        }
        detach(s);
        byName.remove(key);
        byName.put(name, s.committedAs(name, labels, Instant.now()));
    }

    /**
     * Removes a snapshot without children: detaches its device, deletes its image.
     *
     * @param key the snapshot
     */
    synchronized void remove(String key) {
        Snapshot s = require(key, "snapshot");
        for (Snapshot other : byName.values()) {
            if (other.parent().equals(key)) {
                throw status(Status.FAILED_PRECONDITION, "snapshot " + key + " has a child (" + other.name() + "): cannot remove");
            }
        }
        if (s.device() != null) {
            detach(s);
        }
        byName.remove(key);
        try {
            Files.deleteIfExists(s.image());
        } catch (IOException e) {
            throw status(Status.INTERNAL, "snapshot " + key + ": cannot delete " + s.image() + ": " + e.getMessage());
        }
    }

    /** @return the snapshot named {@code key} */
    synchronized Snapshot stat(String key) {
        return require(key, "snapshot");
    }

    /**
     * Changes labels, as containerd's storage does: no paths (or {@code labels}) replace them all,
     * {@code labels.<k>} sets or (absent from {@code labels}) deletes one.
     *
     * @param name   the snapshot
     * @param labels the new labels
     * @param paths  the field mask's paths
     * @return the updated snapshot
     */
    synchronized Snapshot update(String name, Map<String, String> labels, List<String> paths) {
        Snapshot s = require(name, "snapshot");
        Map<String, String> merged = new HashMap<>(s.labels());
        if (paths.isEmpty()) {
            merged = new HashMap<>(labels);
        }
        for (String path : paths) {
            if (path.equals("labels")) {
                merged = new HashMap<>(labels);
            } else if (path.startsWith("labels.")) {
                String k = path.substring("labels.".length());
                if (labels.containsKey(k)) {
                    merged.put(k, labels.get(k));
                } else {
                    merged.remove(k);
                }
            } else {
                throw status(Status.INVALID_ARGUMENT, "update_mask path " + path + ": cannot update that field of " + name);
            }
        }
        Snapshot updated = s.withLabels(merged, Instant.now());
        byName.put(name, updated);
        return updated;
    }

    /** @return the bytes a snapshot's image allocates on the host */
    synchronized long usage(String key) {
        Snapshot s = require(key, "snapshot");
        try {
            return disks.allocatedBytes(s.image());
        } catch (RuntimeException e) {
            throw status(Status.INTERNAL, "snapshot " + key + ": " + e.getMessage());
        }
    }

    /** @return every snapshot, in creation order */
    synchronized List<Snapshot> list() {
        return List.copyOf(byName.values());
    }

    /**
     * Detaches every device and deletes every image, children first. Idempotent.
     *
     * @throws IllegalStateException when something could not be undone (after trying everything)
     */
    @Override
    public synchronized void close() {
        List<String> failures = new ArrayList<>();
        List<Snapshot> all = new ArrayList<>(byName.values());
        for (Snapshot s : all.reversed()) {
            try {
                if (s.device() != null) {
                    disks.detach(s.device());
                }
                Files.deleteIfExists(s.image());
            } catch (RuntimeException | IOException e) {
                failures.add(s.name() + ": " + e.getMessage());
            }
        }
        byName.clear();
        if (!failures.isEmpty()) {
            throw new IllegalStateException("proxy snapshotter left something: " + failures);
        }
    }

    private void detach(Snapshot s) {
        try {
            disks.detach(s.device());
        } catch (RuntimeException e) {
            throw status(Status.INTERNAL, "snapshot " + s.name() + ": " + e.getMessage());
        }
    }

    private Snapshot require(String key, String what) {
        Snapshot s = byName.get(key);
        if (s == null) {
            throw status(Status.NOT_FOUND, what + " " + key + ": not found");
        }
        return s;
    }

    private static void requireKey(String key) {
        if (key.isEmpty()) {
            throw status(Status.INVALID_ARGUMENT, "key is empty");
        }
    }

    private static List<Mount> mountsOf(Snapshot s) {
        return List.of(Mount.newBuilder().setType("ext4").setSource(s.device())
                .addOptions(s.kind() == Kind.VIEW ? "ro" : "rw").build());
    }

    private static StatusRuntimeException status(Status code, String message) {
        return code.withDescription(message).asRuntimeException();
    }

    private static void deleteQuietly(Path image, RuntimeException cause) {
        try {
            Files.deleteIfExists(image);
        } catch (IOException e) {
            cause.addSuppressed(new UncheckedIOException(e));
        }
    }
}
