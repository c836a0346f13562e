package dev.podvisor.it.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs external commands for tests: stdin given up front, stdout and stderr collected on virtual threads, a
 * timeout after which the command and all its descendants are killed. Never throws for a non-zero exit: see
 * {@link CommandResult#requireSuccess()}.
 */
public final class Commands {

    /** Timeout of {@link #run(List)}: 120 s. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(120);

    private Commands() {
    }

    /**
     * Runs {@code command} with empty stdin and {@link #DEFAULT_TIMEOUT}.
     *
     * @param command argv; argv[0] is looked up on PATH
     * @return the result
     * @throws UncheckedIOException when the command cannot be started (e.g. not installed)
     */
    public static CommandResult run(List<String> command) {
        return run(command, null, DEFAULT_TIMEOUT, Map.of());
    }

    /**
     * Runs {@code command}.
     *
     * @param command argv; argv[0] is looked up on PATH
     * @param stdin   bytes written to its stdin, which is then closed; null for empty stdin
     * @param timeout how long it may run before it and its descendants get SIGKILL
     * @param env     variables added to (or replacing in) this JVM's environment
     * @return the result; {@link CommandResult#timedOut()} when it was killed
     * @throws UncheckedIOException when the command cannot be started
     */
    public static CommandResult run(List<String> command, byte[] stdin, Duration timeout, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread outReader = Thread.ofVirtual().start(() -> copy(p.getInputStream(), out));
        Thread errReader = Thread.ofVirtual().start(() -> copy(p.getErrorStream(), err));
        Thread inWriter = Thread.ofVirtual().start(() -> {
            try (OutputStream os = p.getOutputStream()) {
                if (stdin != null) {
                    os.write(stdin);
                }
            } catch (IOException ignored) {
                // the command exited without reading all of stdin: its exit code tells the story
            }
        });
        boolean timedOut = false;
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                timedOut = true;
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor();
            }
            // Descendants that kept stdout open (a daemon) must not block us: give the readers a bound.
            outReader.join(Duration.ofSeconds(10));
            errReader.join(Duration.ofSeconds(10));
            inWriter.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        }
        Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
        String o;
        String e;
        synchronized (out) {
            o = out.toString(StandardCharsets.UTF_8);
        }
        synchronized (err) {
            e = err.toString(StandardCharsets.UTF_8);
        }
        return new CommandResult(command, timedOut ? -1 : p.exitValue(), o, e, elapsed, timedOut);
    }

    private static void copy(InputStream in, ByteArrayOutputStream sink) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (sink) {
                    sink.write(buf, 0, n);
                }
            }
        } catch (IOException ignored) {
            // stream closed by the process's exit
        }
    }
}
