package dev.podvisor.it.snapshotter;

import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@link ImageDisks} with the host's tools: a sparse image of {@link #IMAGE_SIZE} made by {@code truncate} and
 * {@code mkfs.ext4}, copied with {@code cp --sparse=always}, attached with {@code losetup --find --show} and
 * detached with {@code losetup -d} (util-linux, e2fsprogs, coreutils; no ioctl of our own). Needs root.
 */
final class LoopImageDisks implements ImageDisks {

    /** Size of every image: 256 MiB, sparse. */
    static final String IMAGE_SIZE = "256M";

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Override
    public void create(Path image) {
        run("truncate", "-s", IMAGE_SIZE, image.toString());
        run("mkfs.ext4", "-q", "-F", image.toString());
    }

    @Override
    public void copy(Path from, Path to) {
        run("cp", "--sparse=always", from.toString(), to.toString());
    }

    @Override
    public String attach(Path image, boolean readOnly) {
        List<String> cmd = readOnly
                ? List.of("losetup", "--find", "--show", "--read-only", image.toString())
                : List.of("losetup", "--find", "--show", image.toString());
        return run(cmd).stdout().strip();
    }

    @Override
    public void detach(String device) {
        run("losetup", "-d", device);
    }

    @Override
    public long allocatedBytes(Path image) {
        return Long.parseLong(run("du", "--block-size=1", image.toString()).stdout().split("\\s+")[0]);
    }

    private static CommandResult run(String... cmd) {
        return run(List.of(cmd));
    }

    private static CommandResult run(List<String> cmd) {
        CommandResult r = Commands.run(cmd, new byte[0], TIMEOUT, Map.of());
        if (!r.ok()) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + r.exitCode() + "): "
                    + r.stderr().strip());
        }
        return r;
    }
}
