package dev.podvisor.shim;

import dev.podvisor.sandbox.SandboxCleanup;
import dev.podvisor.sandbox.SandboxState;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The training run of {@code delete}'s small AOT cache ({@code AotTraining delete}; a cache of its own, because a
 * JVM maps every class of its cache at start and the daemon's 3,800 would slow {@code delete} down): the same calls
 * as that action, on a bundle in a temp directory, touching nothing outside it: {@link DeleteCommand} on that bundle
 * twice, without sandbox state (the cleanup finds nothing), and with the state a dead daemon's sandbox leaves (read
 * and undone: its state directory removed).
 */
final class DeleteTraining {

    private DeleteTraining() {
    }

    /** Trains {@code delete}'s path on a new bundle under {@code dir}. */
    static void train(Path dir) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                 "annotations": {"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": "training"}}
                """);
        BundleFiles.write(bundle, BundleFiles.SHIM_PID, Long.toString(ProcessHandle.current().pid()));
        BundleFiles.write(bundle, BundleFiles.ADDRESS, ShimAddress.uri(dir.resolve("shim.sock")));
        deletePath(dir, bundle);
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
