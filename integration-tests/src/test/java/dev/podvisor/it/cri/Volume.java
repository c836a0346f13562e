package dev.podvisor.it.cri;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * A pod volume as kubelet lays it out under {@code <pod dir>/volumes/<plugin dir>/<name>} (Kubernetes
 * {@code pkg/volume/emptydir}, {@code secret}, {@code configmap}, {@code projected}; hostPath volumes are used
 * in place). Items of secrets, configMaps and projected volumes are written with kubelet's atomic writer
 * ({@link AtomicWriter}).
 *
 * @param name      the volume's name in the pod spec
 * @param kind      the volume plugin
 * @param sizeBytes tmpfs {@code size=} for memory-backed kinds; 0: kubelet's default (the pod's memory limit,
 *                  else the node's memory)
 * @param items     file name to UTF-8 content, for secret / configMap / projected; empty otherwise
 * @param hostPath  the host path of a hostPath volume; null otherwise
 */
public record Volume(String name, Kind kind, long sizeBytes, Map<String, String> items, Path hostPath) {

    /** Volume plugins, with kubelet's directory name and medium. */
    public enum Kind {
        /** emptyDir on the node's disk: a plain directory. */
        EMPTY_DIR("kubernetes.io~empty-dir", false),
        /** emptyDir {@code medium: Memory}: a tmpfs with {@code size=}. */
        MEMORY_EMPTY_DIR("kubernetes.io~empty-dir", true),
        /** secret: kubelet wraps it in a memory emptyDir (tmpfs). */
        SECRET("kubernetes.io~secret", true),
        /** configMap: kubelet wraps it in a disk emptyDir (a plain directory, unlike secrets). */
        CONFIG_MAP("kubernetes.io~configmap", false),
        /** projected (service account tokens...): a memory emptyDir (tmpfs). */
        PROJECTED("kubernetes.io~projected", true),
        /** hostPath: the host path itself, nothing under the pod dir. */
        HOST_PATH("", false);

        private final String pluginDir;
        private final boolean tmpfs;

        Kind(String pluginDir, boolean tmpfs) {
            this.pluginDir = pluginDir;
            this.tmpfs = tmpfs;
        }

        /** @return the directory under {@code <pod dir>/volumes}, e.g. {@code kubernetes.io~empty-dir} */
        public String pluginDir() {
            return pluginDir;
        }

        /** @return whether kubelet mounts a tmpfs there */
        public boolean tmpfs() {
            return tmpfs;
        }

        /** @return whether kubelet writes items with the atomic writer */
        public boolean atomicWriter() {
            return this == SECRET || this == CONFIG_MAP || this == PROJECTED;
        }
    }

    /** Validates the fields. */
    public Volume {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        items = Map.copyOf(items);
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("volume " + name + ": sizeBytes " + sizeBytes + " is negative");
        }
        if ((kind == Kind.HOST_PATH) != (hostPath != null)) {
            throw new IllegalArgumentException("volume " + name + ": hostPath " + hostPath + " does not fit kind " + kind);
        }
    }

    /** @return an emptyDir on disk */
    public static Volume emptyDir(String name) {
        return new Volume(name, Kind.EMPTY_DIR, 0, Map.of(), null);
    }

    /** @return an emptyDir with {@code medium: Memory} and {@code sizeLimit} in bytes (0: kubelet's default) */
    public static Volume memoryEmptyDir(String name, long sizeBytes) {
        return new Volume(name, Kind.MEMORY_EMPTY_DIR, sizeBytes, Map.of(), null);
    }

    /** @return a secret volume holding {@code items} (file name to content) */
    public static Volume secret(String name, Map<String, String> items) {
        return new Volume(name, Kind.SECRET, 0, items, null);
    }

    /** @return a configMap volume holding {@code items} */
    public static Volume configMap(String name, Map<String, String> items) {
        return new Volume(name, Kind.CONFIG_MAP, 0, items, null);
    }

    /** @return a projected volume holding {@code items} */
    public static Volume projected(String name, Map<String, String> items) {
        return new Volume(name, Kind.PROJECTED, 0, items, null);
    }

    /** @return a hostPath volume */
    public static Volume hostPath(String name, Path path) {
        return new Volume(name, Kind.HOST_PATH, 0, Map.of(), path);
    }
}
