package dev.podvisor.it.snapshotter;

import dev.podvisor.it.snapshotter.api.Kind;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * One snapshot of {@link SnapshotStore}, immutable: a change makes a new value.
 *
 * @param name    the key (active, view) or name (committed) containerd chose, e.g. {@code default/3/sha256:...}
 * @param parent  the committed parent's name, empty for none
 * @param kind    {@link Kind#ACTIVE}, {@link Kind#VIEW} or {@link Kind#COMMITTED}
 * @param labels  containerd's labels
 * @param created creation time
 * @param updated last change
 * @param image   the ext4 image file holding its content
 * @param device  the loop device the image is attached to (active and view), null when committed
 */
record Snapshot(String name, String parent, Kind kind, Map<String, String> labels, Instant created, Instant updated,
                Path image, String device) {

    Snapshot {
        labels = Map.copyOf(labels);
    }

    Snapshot withLabels(Map<String, String> newLabels, Instant now) {
        return new Snapshot(name, parent, kind, newLabels, created, now, image, device);
    }

    Snapshot committedAs(String newName, Map<String, String> newLabels, Instant now) {
        return new Snapshot(newName, parent, Kind.COMMITTED, newLabels, now, now, image, null);
    }
}
