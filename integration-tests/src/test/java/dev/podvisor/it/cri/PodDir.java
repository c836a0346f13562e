package dev.podvisor.it.cri;

import dev.podvisor.it.support.Commands;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One pod's directory as kubelet lays it out under its root ({@code /var/lib/kubelet/pods/<uid>}; Kubernetes
 * {@code pkg/kubelet/kubelet_getters.go}, {@code pkg/volume/emptydir}, {@code pkg/volume/util/subpath}):
 *
 * <pre>
 * &lt;pods root&gt;/&lt;uid&gt;/volumes/kubernetes.io~empty-dir/&lt;name&gt;     plain dir, or tmpfs size=N (medium Memory)
 * &lt;pods root&gt;/&lt;uid&gt;/volumes/kubernetes.io~secret/&lt;name&gt;        tmpfs size=N, atomic writer layout
 * &lt;pods root&gt;/&lt;uid&gt;/volumes/kubernetes.io~configmap/&lt;name&gt;     plain dir, atomic writer layout
 * &lt;pods root&gt;/&lt;uid&gt;/volumes/kubernetes.io~projected/&lt;name&gt;     tmpfs size=N, atomic writer layout
 * &lt;pods root&gt;/&lt;uid&gt;/volume-subpaths/&lt;volume&gt;/&lt;container&gt;/&lt;mount index&gt;   bind mount of a subPath
 * &lt;pods root&gt;/&lt;uid&gt;/etc-hosts                                   mounted at /etc/hosts
 * &lt;pods root&gt;/&lt;uid&gt;/containers/&lt;container&gt;/&lt;8 hex&gt;            mounted at /dev/termination-log
 * </pre>
 *
 * Mounts are made with {@code mount(8)}; {@link #close()} unmounts them (last first) and deletes the directory.
 */
final class PodDir implements AutoCloseable {

    private final Path root;
    private final PodSpec spec;
    private final Deque<Path> mounts = new ArrayDeque<>();

    private PodDir(Path root, PodSpec spec) {
        this.root = root;
        this.spec = spec;
    }

    /**
     * Creates the pod dir and its volumes (tmpfs mounts, atomic-writer payloads).
     *
     * @param podsRoot the kubelet's pods root
     * @param spec     the pod
     * @return the laid-out dir; on failure, whatever was made is undone
     */
    static PodDir create(Path podsRoot, PodSpec spec) {
        PodDir dir = new PodDir(podsRoot.resolve(spec.uid()), spec);
        try {
            Files.createDirectories(dir.root);
            for (Volume v : spec.volumes()) {
                dir.setUp(v);
            }
            return dir;
        } catch (IOException | RuntimeException e) {
            dir.closeAfter(e);
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** @return {@code <pods root>/<uid>} */
    Path root() {
        return root;
    }

    /**
     * @param v a pod volume
     * @return its host directory (the hostPath itself for hostPath volumes)
     */
    Path volumeDir(Volume v) {
        return v.kind() == Volume.Kind.HOST_PATH ? v.hostPath()
                : root.resolve("volumes").resolve(v.kind().pluginDir()).resolve(v.name());
    }

    private void setUp(Volume v) throws IOException {
        if (v.kind() == Volume.Kind.HOST_PATH) {
            return;
        }
        Path dir = volumeDir(v);
        Files.createDirectories(dir);
        if (v.kind().tmpfs()) {
            long size = v.sizeBytes() > 0 ? v.sizeBytes()
                    : spec.memoryLimitBytes() > 0 ? spec.memoryLimitBytes() : nodeMemoryBytes();
            mount(List.of("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()), dir);
        }
        if (v.kind().atomicWriter()) {
            AtomicWriter.write(dir, v.items());
        }
    }

    /**
     * Replaces a secret/configMap/projected volume's payload as kubelet does on an update.
     *
     * @param volume the volume's name
     * @param items  the new payload
     */
    void update(String volume, Map<String, String> items) {
        Volume v = spec.volume(volume);
        if (!v.kind().atomicWriter()) {
            throw new IllegalArgumentException("volume " + volume + " is a " + v.kind() + ": no items to update");
        }
        AtomicWriter.write(volumeDir(v), items);
    }

    /**
     * The host path kubelet hands to the runtime for one volume mount: the volume dir, or for a subPath a bind
     * mount of it at {@code volume-subpaths/<volume>/<container>/<index>} (the subPath is created in the volume
     * as a directory when missing, as kubelet does).
     *
     * @param container the container's name
     * @param index     the mount's index in the container's {@code volumeMounts}
     * @param mount     the mount
     * @return the host path for CRI {@code Mount.host_path}
     */
    Path hostPath(String container, int index, VolumeMount mount) {
        Path volumeDir = volumeDir(spec.volume(mount.volume()));
        if (mount.subPath().isEmpty()) {
            return volumeDir;
        }
        try {
            Path source = volumeDir.resolve(mount.subPath());
            if (!Files.exists(source)) {
                Files.createDirectories(source);
            }
            Path target = root.resolve("volume-subpaths").resolve(mount.volume()).resolve(container)
                    .resolve(Integer.toString(index));
            if (mounts.contains(target)) {
                return target;
            }
            Files.createDirectories(target.getParent());
            if (Files.isDirectory(source)) {
                Files.createDirectories(target);
            } else if (!Files.exists(target)) {
                Files.createFile(target);
            }
            mount(List.of("mount", "--bind", source.toString(), target.toString()), target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("subPath " + mount.subPath() + " of volume " + mount.volume(), e);
        }
    }

    /**
     * Writes {@code etc-hosts} as kubelet does (Kubernetes {@code pkg/kubelet/kubelet_pods.go} managedHostsFileContent).
     *
     * @param podIp the pod's IP ("" when it has none: no pod line)
     * @return the file
     */
    Path writeEtcHosts(String podIp) {
        StringBuilder b = new StringBuilder("# Kubernetes-managed hosts file.\n")
                .append("127.0.0.1\tlocalhost\n")
                .append("::1\tlocalhost ip6-localhost ip6-loopback\n")
                .append("fe00::0\tip6-localnet\n")
                .append("fe00::0\tip6-mcastprefix\n")
                .append("fe00::1\tip6-allnodes\n")
                .append("fe00::2\tip6-allrouters\n");
        if (!podIp.isEmpty()) {
            b.append(podIp).append('\t').append(spec.name()).append('\n');
        }
        Path file = root.resolve("etc-hosts");
        try {
            Files.writeString(file, b);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * @param container a container's name
     * @return a new empty termination-log file {@code containers/<container>/<8 hex>}
     */
    Path newTerminationLog(String container) {
        byte[] b = new byte[4];
        ThreadLocalRandom.current().nextBytes(b);
        Path file = root.resolve("containers").resolve(container).resolve(HexFormat.of().formatHex(b));
        try {
            Files.createDirectories(file.getParent());
            Files.createFile(file);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void mount(List<String> command, Path target) {
        Commands.run(command).requireSuccess();
        mounts.push(target);
    }

    /** Unmounts every mount made here, last first, and deletes the pod dir. */
    @Override
    public void close() {
        List<String> failed = new ArrayList<>();
        while (!mounts.isEmpty()) {
            Path m = mounts.pop();
            if (!Commands.run(List.of("umount", m.toString())).ok()) {
                failed.add(m.toString());
            }
        }
        if (!failed.isEmpty()) {
            throw new IllegalStateException("cannot unmount " + failed + " of pod " + spec.name());
        }
        try {
            if (Files.exists(root)) {
                AtomicWriter.deleteTree(root);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    private void closeAfter(Exception cause) {
        try {
            close();
        } catch (RuntimeException suppressed) {
            cause.addSuppressed(suppressed);
        }
    }

    private static long nodeMemoryBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no MemTotal in /proc/meminfo");
    }
}
