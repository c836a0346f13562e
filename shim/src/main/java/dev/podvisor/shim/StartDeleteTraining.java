package dev.podvisor.shim;

import dev.podvisor.sandbox.SandboxCleanup;
import dev.podvisor.sandbox.SandboxState;
import dev.podvisor.storage.linux.Dup2;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training runs of the small AOT caches of {@code start} and {@code delete} ({@code AotTraining start},
 * {@code AotTraining delete}; one cache each, because a JVM maps every class of its cache and delete's Jackson
 * databind would cost start 470 classes): the same calls as those actions, on a bundle in a temp directory, without touching this JVM's stdin, containerd's
 * socket directory or any process but one {@code /bin/true}: the bundle's annotations, the socket bound and its fd
 * found and duplicated (onto itself), a child spawned with stdin inherited, the bundle files written, then
 * {@link DeleteCommand} on that bundle twice: without sandbox state (the cleanup finds nothing), and with the state
 * a dead daemon's sandbox leaves (read with Jackson databind and undone: its state directory removed).
 */
final class StartDeleteTraining {

    private StartDeleteTraining() {
    }

    /** Trains {@code start}'s path ({@code action} "start") or {@code delete}'s ("delete"). */
    static void train(Path dir, String action) throws Exception {
        Path bundle = startPath(dir);
        if (action.equals("delete")) {
            deletePath(dir, bundle);
        }
    }

    /** What start runs, on a new bundle under {@code dir}; returns the bundle. */
    private static Path startPath(Path dir) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                 "annotations": {"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "training"}}
                """);
        ShimFlags flags = ShimFlags.parse(List.of("-namespace", "default", "-address", dir.resolve("c.sock").toString(),
                "-publish-binary", "/usr/bin/containerd", "-id", "training", "-bundle", bundle.toString(), "start"));
        flags.requireTaskFlags();
        PodGrouping.Grouping grouping = PodGrouping.classify(flags.id(), BundleFiles.annotations(bundle));
        ShimAddress.socketPath(flags.address(), flags.namespace(), grouping.sandboxId());
        Path socket = dir.resolve("shim.sock");
        StartCommand.connectable(socket);
        long pid;
        try (ServerSocketChannel listener = ShimSocket.bind(socket)) {
            int fd = ShimSocket.fdOf(socket);
            Dup2.dup2(fd, fd);
            String[] jvmArgs = ProcessHandle.current().info().arguments().orElse(new String[] {"Main"});
            StartCommand.indexOfMainClass(jvmArgs);
            flags.daemonArgs();
            Process child = new ProcessBuilder("/bin/true").directory(bundle.toFile())
                    .redirectInput(ProcessBuilder.Redirect.INHERIT).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.appendTo(bundle.resolve("log").toFile())).start();
            pid = child.pid();
            child.waitFor();
        }
        BundleFiles.write(bundle, BundleFiles.SHIM_PID, Long.toString(pid));
        BundleFiles.write(bundle, BundleFiles.ADDRESS, ShimAddress.uri(socket));
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8).print(ShimAddress.uri(socket));
        return bundle;
    }

    /** What delete runs on the bundle start made: without sandbox state, then with a dead sandbox's. */
    private static void deletePath(Path dir, Path bundle) throws Exception {
        ByteArrayOutputStream response = new ByteArrayOutputStream();
        DeleteCommand.run(ShimFlags.parse(List.of("-namespace", "default", "-address", dir.resolve("c.sock").toString(),
                "-id", "training", "-bundle", bundle.toString(), "delete")), Map.of(), bundle,
                new PrintStream(response, true, StandardCharsets.UTF_8));
        if (response.size() == 0) {
            throw new IllegalStateException("delete printed no DeleteResponse");
        }
        // delete after a dead daemon whose sandbox left its persisted state (in the temp dir): read and undone
        Path vmDir = Files.createDirectories(dir.resolve("state/training"));
        SandboxState.initial("training", vmDir.toString(), dir.resolve("shared/training").toString()).save();
        Files.writeString(bundle.resolve(SandboxCleanup.BUNDLE_LINK), vmDir.toString());
        Files.deleteIfExists(bundle.resolve(BundleFiles.SHIM_PID));
        DeleteCommand.run(ShimFlags.parse(List.of("-namespace", "default", "-address", dir.resolve("c.sock").toString(),
                "-id", "training", "-bundle", bundle.toString(), "delete")), Map.of(), bundle,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        if (Files.exists(vmDir)) {
            throw new IllegalStateException("delete left the training sandbox's state " + vmDir);
        }
    }
}
