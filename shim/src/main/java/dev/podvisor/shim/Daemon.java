package dev.podvisor.shim;

import dev.podvisor.protocols.ttrpc.TtrpcServer;
import dev.podvisor.sandbox.SandboxLaunch;
import dev.podvisor.sandbox.VmSandbox;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;
import dev.podvisor.shim.metrics.ManagementServer;
import dev.podvisor.storage.linux.Linux;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The long-lived shim daemon of one pod: leaves containerd's process group ({@code setsid}), logs logfmt
 * lines into the bundle's {@code log} FIFO, serves the pod's shim socket (the listener {@code start} bound, see
 * {@link StartCommand}) with the
 * {@code containerd.task.v2.Task} service (peers must have our uid), and exits after a Shutdown that finds no
 * container left, removing its socket.
 */
final class Daemon {

    private Daemon() {
    }

    /** The daemon run by hand (no action): binds the pod's socket itself, then {@link #run(ShimFlags, Map, Path, ServerSocketChannel)}. */
    static int run(ShimFlags flags, Map<String, String> env, Path bundle) {
        return run(flags, env, bundle, ShimSocket.bind(ShimAddress.socketPath(flags.address(), flags.namespace(), flags.id())));
    }

    /**
     * Serves {@code listener} (bound to the pod's socket, closed and its file removed when the daemon exits) until
     * a Shutdown finds no container left.
     *
     * @return the process exit status, 0
     * @throws UncheckedIOException naming the socket when serving fails
     */
    static int run(ShimFlags flags, Map<String, String> env, Path bundle, ServerSocketChannel listener) {
        // FFM's first downcalls cost ~50 ms at a JVM's start: made on the other core while this thread builds the
        // services; a sandbox boots (and spawns the VMM) only once this process has left containerd's session
        Thread session = Thread.ofPlatform().name("setsid").start(Daemon::leaveContainerdSession);
        LogfmtLog log = new LogfmtLog(logStream(bundle), flags.debug() ? LogfmtLog.Level.DEBUG : LogfmtLog.Level.INFO,
                orderedFields("sandbox", flags.id(), "runtime", "io.containerd.kata.v2"));
        Path socket = boundPath(listener);
        CountDownLatch exitRequested = new CountDownLatch(1);
        PodMetrics metrics = PodMetrics.forSandbox(annotationsOrNone(bundle));
        ManagementServer management = new ManagementServer(flags.id(), bundle, metrics, log);
        metrics.onSandboxBooted(management::start);
        EventPublisher events = new EventPublisher(env.get("TTRPC_ADDRESS"), flags.namespace(), log);
        TaskService[] tasks = new TaskService[1];
        tasks[0] = new TaskService(
                options -> {
                    await(session);
                    return VmSandbox.boot(new SandboxLaunch(flags.id(), flags.namespace(), bundle, env, options, log,
                            containerId -> tasks[0].oom(containerId), metrics));
                },
                events, log,
                // answer Shutdown first, then stop: the reply is on its way before the socket closes
                () -> Thread.ofVirtual().start(() -> {
                    sleepQuietly(Duration.ofMillis(50));
                    exitRequested.countDown();
                }));
        TtrpcServer server = TtrpcServer.builder().requireSameUid(true).service(tasks[0].definition())
                .observer((call, nanos, code) -> {
                    metrics.taskRpc(call.method(), nanos);
                    if (log.enabled(LogfmtLog.Level.DEBUG)) {
                        log.debug("task rpc", "method", call.method(), "code", code, "duration_ms", nanos / 1_000_000);
                    }
                }).build();
        try (listener) {
            server.serve(listener);
            log.info("shim daemon listening", "address", ShimAddress.uri(socket), "pid", ProcessHandle.current().pid());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (exitRequested.getCount() > 0) {
                    log.warn("shim daemon terminated by a signal");
                }
            }));
            exitRequested.await();
        } catch (IOException e) {
            throw new UncheckedIOException("serving on " + socket + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            server.close();
            management.close();
            events.close();
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // the socket lives in containerd's tmpfs; a leftover is replaced by the next start
            }
        }
        log.info("shim daemon exiting");
        return 0;
    }

    private static Map<String, String> orderedFields(String... kv) {
        Map<String, String> fields = new java.util.LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            fields.put(kv[i], kv[i + 1]);
        }
        return fields;
    }

    /** The bundle's annotations (the metrics' CRI labels), none when config.json cannot be read. */
    private static Map<String, String> annotationsOrNone(Path bundle) {
        try {
            return BundleFiles.annotations(bundle);
        } catch (RuntimeException e) {
            return Map.of();
        }
    }

    /** The bundle's {@code log} FIFO (containerd reads it), else stderr. */
    private static OutputStream logStream(Path bundle) {
        Path fifo = bundle.resolve("log");
        if (Files.exists(fifo)) {
            try {
                return new FileOutputStream(fifo.toFile(), true);
            } catch (IOException e) {
                // fall through to stderr
            }
        }
        return System.err;
    }

    /** The path {@code listener} is bound to (start bound it; the daemon removes it when it exits). */
    private static Path boundPath(ServerSocketChannel listener) {
        try {
            return ((java.net.UnixDomainSocketAddress) listener.getLocalAddress()).getPath();
        } catch (IOException e) {
            throw new UncheckedIOException("reading the shim socket's address: " + e.getMessage(), e);
        }
    }

    /** {@code setsid}, then the mount calls linked ahead of the sandbox's boot ({@link Linux#linkMountCalls}). */
    private static void leaveContainerdSession() {
        try {
            Linux.setsid();
        } catch (RuntimeException alreadyLeader) {
            // EPERM: already a session leader (started by hand); nothing to leave
        }
        Linux.linkMountCalls();
    }

    /** Waits for {@code thread}; an interrupted wait fails the sandbox's boot (its Create is being abandoned). */
    private static void await(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the shim daemon left containerd's session", e);
        }
    }

    private static void sleepQuietly(Duration duration) {
        try {
            Thread.sleep(duration);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
