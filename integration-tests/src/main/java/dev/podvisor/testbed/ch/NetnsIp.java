package dev.podvisor.testbed.ch;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code ip} (iproute2) inside a given network namespace: {@code nsenter --net=<ns file> ip <args>}.
 * The namespace file may be {@code /proc/<pid>/ns/net} or {@code /proc/<pid>/fd/<fd>} of an open namespace
 * fd.
 */
final class NetnsIp {
    private NetnsIp() {
    }

    /**
     * @param netns the namespace file
     * @param args  the {@code ip} arguments, e.g. {@code -j -d link show dev tap0_kata}
     * @return standard output
     * @throws IOException naming the command, its exit status and stderr when it fails or takes over 30 s
     */
    static String run(Path netns, String... args) throws IOException {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + netns, "ip"));
        argv.addAll(List.of(args));
        return exec(argv);
    }

    /**
     * Runs a short command to completion with stdin from {@code /dev/null}.
     *
     * @param argv the command
     * @return standard output
     * @throws IOException naming the command, its exit status and stderr when it fails or takes over 30 s
     */
    static String exec(List<String> argv) throws IOException {
        Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectError(ProcessBuilder.Redirect.PIPE).start();
        try {
            byte[][] err = new byte[1][];
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    err[0] = p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    err[0] = new byte[0];
                }
            });
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", argv) + ": did not finish within 30 s");
            }
            t.join();
            if (p.exitValue() != 0) {
                throw new IOException(String.join(" ", argv) + ": exit status " + p.exitValue() + ": "
                        + new String(err[0], StandardCharsets.UTF_8).strip());
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", argv) + ": interrupted", e);
        }
    }
}
