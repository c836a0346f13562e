package dev.podvisor.testbed.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short helper commands ({@code losetup}, {@code mkfs.ext4}, {@code mkfifo}, {@code runc}). */
final class Commands {

    /**
     * The result of a finished command.
     *
     * @param exitCode its exit status
     * @param stdout   standard output (UTF-8)
     * @param stderr   standard error (UTF-8)
     */
    record Result(int exitCode, String stdout, String stderr) {
    }

    private Commands() {
    }

    /**
     * Runs {@code argv} to completion (at most 60 s) with stdin from /dev/null.
     *
     * @throws IOException when it cannot start or does not finish in time
     */
    static Result run(List<String> argv) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(
                new java.io.File("/dev/null")));
        Process process = builder.start();
        try {
            byte[][] streams = new byte[2][];
            Thread errReader = Thread.ofVirtual().start(() -> {
                try {
                    streams[1] = process.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    streams[1] = new byte[0];
                }
            });
            streams[0] = process.getInputStream().readAllBytes();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", argv) + ": did not finish within 60 s");
            }
            errReader.join();
            return new Result(process.exitValue(), new String(streams[0], StandardCharsets.UTF_8),
                    new String(streams[1], StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", argv) + ": interrupted", e);
        }
    }

    /**
     * Runs {@code argv} and requires exit status 0.
     *
     * @return its standard output
     * @throws IOException naming the command, its exit status and its standard error otherwise
     */
    static String check(List<String> argv) throws IOException {
        Result result = run(argv);
        if (result.exitCode() != 0) {
            throw new IOException(String.join(" ", argv) + ": exit status " + result.exitCode() + ": "
                    + result.stderr().strip());
        }
        return result.stdout();
    }
}
