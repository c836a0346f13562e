package dev.podvisor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The busybox OCI image tarballs of {@code scripts/make-busybox-image.sh}, built once per JVM into temp files
 * (removed at exit). No registry is needed: import them with {@link #importInto}.
 */
public final class BusyboxImage {

    /** Image name of {@link #tarball()}: busybox with default command {@code sh}. */
    public static final String NAME = "docker.io/library/busybox:podvisor";
    /**
     * Image name of {@link #pauseTarball()}: busybox whose default command sleeps forever, the CRI sandbox image
     * that {@code scripts/containerd-private.sh} configures as {@code sandbox_image}.
     */
    public static final String PAUSE_NAME = "docker.io/library/busybox:podvisor-pause";

    private static Path tarball;
    private static Path pauseTarball;

    private BusyboxImage() {
    }

    /**
     * @return the OCI image-layout tarball of {@link #NAME}
     * @throws IllegalStateException when the script fails (e.g. busybox-static missing)
     */
    public static synchronized Path tarball() {
        if (tarball == null) {
            tarball = build(NAME, List.of());
        }
        return tarball;
    }

    /**
     * @return the OCI image-layout tarball of {@link #PAUSE_NAME}
     * @throws IllegalStateException when the script fails
     */
    public static synchronized Path pauseTarball() {
        if (pauseTarball == null) {
            pauseTarball = build(PAUSE_NAME, List.of("--cmd", "sleep 2147483647"));
        }
        return pauseTarball;
    }

    /**
     * Imports both images ({@link #NAME} and {@link #PAUSE_NAME}) into a namespace of a private containerd.
     *
     * @param containerd the instance
     * @param namespace  containerd namespace, e.g. {@code default} for ctr, {@code k8s.io} for CRI
     * @throws AssertionError when {@code ctr images import} fails
     */
    public static void importInto(PrivateContainerd containerd, String namespace) {
        containerd.importImage(tarball(), namespace);
        containerd.importImage(pauseTarball(), namespace);
    }

    private static Path build(String name, List<String> options) {
        try {
            Path out = Files.createTempFile("podvisor-busybox-", ".tar");
            out.toFile().deleteOnExit();
            var cmd = new java.util.ArrayList<String>(List.of("bash", Installed.script("make-busybox-image.sh").toString()));
            cmd.addAll(options);
            cmd.add(out.toString());
            cmd.add(name);
            CommandResult r = Commands.run(cmd);
            if (!r.ok()) {
                throw new IllegalStateException("building image " + name + " failed: " + r);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp file for image " + name, e);
        }
    }
}
