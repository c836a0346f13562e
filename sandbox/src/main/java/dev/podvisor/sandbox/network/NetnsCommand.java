package dev.podvisor.sandbox.network;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs an iproute2 command inside a network namespace: {@code nsenter --net=<netns> <command...>}
 * (util-linux), so the shim's own threads never change namespace. Bounded by 30 s.
 */
final class NetnsCommand {

    private static final long TIMEOUT_SECONDS = 30;

    private NetnsCommand() {
    }

    /**
     * What a command printed.
     *
     * @param exit   its exit status
     * @param stdout its standard output
     * @param stderr its error output
     */
    record Result(int exit, String stdout, String stderr) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Runs {@code command} in {@code netns}; never throws for a non-zero exit. */
    static Result run(Path netns, String... command) {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + netns));
        argv.addAll(List.of(command));
        try {
            Process p = new ProcessBuilder(argv).start();
            p.getOutputStream().close();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
            String out = drain(p.getInputStream());
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetworkException(String.join(" ", argv) + ": no exit within " + TIMEOUT_SECONDS + " s");
            }
            return new Result(p.exitValue(), out, err.join());
        } catch (IOException e) {
            throw new NetworkException(String.join(" ", argv) + ": cannot run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetworkException(String.join(" ", argv) + ": interrupted", e);
        }
    }

    /** Runs {@code command} in {@code netns}; its stdout, or a {@link NetworkException} naming command and error. */
    static String check(Path netns, String... command) {
        Result r = run(netns, command);
        if (!r.ok()) {
            throw failure(netns, r, command);
        }
        return r.stdout();
    }

    static NetworkException failure(Path netns, Result r, String... command) {
        return new NetworkException("in netns " + netns + ": " + String.join(" ", command) + ": exit " + r.exit()
                + ": " + r.stderr().strip());
    }

    private static String drain(java.io.InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
