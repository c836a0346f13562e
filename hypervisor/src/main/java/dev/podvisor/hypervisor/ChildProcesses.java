package dev.podvisor.hypervisor;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Launching and stopping the helper processes of a sandbox (cloud-hypervisor, virtiofsd): stdin from
 * {@code /dev/null}, stdout and stderr appended to one log file, a new session (and so process group) through
 * {@code setsid(1)} when it is installed, so that signals sent to the shim's group do not reach them.
 *
 * <p>Their life is tied to the shim's: they are started with {@code setpriv --pdeathsig KILL} (when
 * {@code setpriv(1)} is installed), and always from one long-lived platform thread, because the kernel sends the
 * parent-death signal when the <em>thread</em> that forked the child ends, and a virtual thread's carrier may end
 * while the shim lives on. Each child is recorded in the {@link ChildRegistry} of its log's directory (the
 * sandbox's state directory) the moment it starts.
 */
public final class ChildProcesses {
    private static final List<Path> SETSID = List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid"));
    private static final List<Path> SETPRIV = List.of(Path.of("/usr/bin/setpriv"), Path.of("/bin/setpriv"));
    /** The one thread that forks children: it lives as long as the JVM, so the parent-death signal means the shim died. */
    private static final java.util.concurrent.ExecutorService SPAWNER =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "podvisor-spawner");
                t.setDaemon(true);
                return t;
            });

    private ChildProcesses() {
    }

    /**
     * Checks that a configured binary exists and is executable.
     *
     * @param binary the configured path
     * @param what   what it is and where it is configured, e.g. {@code cloud-hypervisor (hypervisor.clh path)}
     * @throws NoSuchFileException   naming the path if it does not exist
     * @throws AccessDeniedException naming the path if it is not an executable regular file
     */
    public static void requireExecutable(Path binary, String what) throws IOException {
        if (!Files.exists(binary)) {
            throw new NoSuchFileException(binary.toString(), null, what + ": does not exist");
        }
        if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
            throw new AccessDeniedException(binary.toString(), null, what + ": not an executable file");
        }
    }

    /**
     * Starts {@code argv} with stdin from {@code /dev/null} and stdout + stderr appended to {@code outputLog}
     * (created if missing), in a new session when {@code setsid(1)} exists and with SIGKILL as its parent-death
     * signal when {@code setpriv(1)} exists. Both exec the program in the same process, so the returned process's
     * pid is the program's. It is recorded in {@code ChildRegistry.in(outputLog.getParent())} before this returns.
     *
     * @param argv      the program and its arguments
     * @param outputLog the output file, in the sandbox's state directory
     * @return the started process
     * @throws IOException if the process cannot be started or recorded
     */
    public static Process spawn(List<String> argv, Path outputLog) throws IOException {
        List<String> cmd = new ArrayList<>(argv.size() + 4);
        SETPRIV.stream().filter(Files::isExecutable).findFirst()
                .ifPresent(p -> cmd.addAll(List.of(p.toString(), "--pdeathsig", "KILL")));
        SETSID.stream().filter(Files::isExecutable).findFirst().ifPresent(p -> cmd.add(p.toString()));
        cmd.addAll(argv);
        ProcessBuilder builder = new ProcessBuilder(cmd)
                .directory(new File("/"))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(outputLog.toFile()))
                .redirectErrorStream(true);
        Process process;
        try {
            process = SPAWNER.submit(builder::start).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("starting " + argv.getFirst() + ": interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("starting " + argv.getFirst() + ": " + e.getCause(), e.getCause());
        }
        try {
            String program = argv.getFirst();
            ChildRegistry.in(outputLog.toAbsolutePath().getParent())
                    .record(program.substring(program.lastIndexOf('/') + 1), process.pid());
        } catch (java.io.UncheckedIOException e) {
            process.destroyForcibly();
            throw e.getCause();
        }
        return process;
    }

    /**
     * Waits up to {@code grace} for the process to exit, then kills it with SIGKILL and waits for that.
     *
     * @param process the process
     * @param grace   how long to wait before SIGKILL
     * @return true if it exited within {@code grace}, false if it had to be killed
     */
    public static boolean awaitOrKill(Process process, Duration grace) {
        boolean interrupted = false;
        boolean exited;
        try {
            exited = process.waitFor(Math.max(0, grace.toMillis()), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
            exited = false;
        }
        if (!exited) {
            process.destroyForcibly();
            while (true) {
                try {
                    process.waitFor();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return exited;
    }

    /**
     * The last {@code maxBytes} of a log file, for error messages.
     *
     * @param log      the file
     * @param maxBytes how much to keep
     * @return the tail, stripped; empty if the file cannot be read
     */
    public static String tail(Path log, int maxBytes) {
        try (var f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - maxBytes);
            byte[] b = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "";
        }
    }
}
