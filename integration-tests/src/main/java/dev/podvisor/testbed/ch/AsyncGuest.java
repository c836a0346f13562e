package dev.podvisor.testbed.ch;

import dev.podvisor.testbed.log.TestbedLog;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The guest of a booted VM, coming up asynchronously as a real VM does: {@code vm.boot} answers as soon as
 * the VM is configured (Cloud Hypervisor's boot returns once the vCPUs run; the guest kernel and the agent
 * come up later), while a starter thread starts the guest emulator ({@link GuestLink}), runs the
 * {@link BeforeBoot} step with the guest's pid (the guest NICs are made then, before the guest is told to
 * boot, so that they exist before the agent answers its first call), then sends the {@code boot} event and
 * every event queued meanwhile, in order.
 *
 * <p>Until the guest listens on the agent port, the hybrid vsock front closes connection attempts without an
 * answer, so a client's agent dial waits and retries exactly as with a real VM. If the start fails, the
 * failure is logged ({@code guest-start-failed} with the reason) and {@code onFailure} runs (the stand-in
 * closes the vsock front, so later dials fail at once instead of waiting for a guest that never comes).
 */
final class AsyncGuest implements AutoCloseable {
    /** Work done with the started guest process before it is told to boot. */
    @FunctionalInterface
    interface BeforeBoot {
        /** @param guestPid the guest emulator's pid @throws IOException when the step fails (the start fails) */
        void run(long guestPid) throws IOException;
    }

    private final TestbedLog log;
    private final List<Map<String, Object>> queued = new ArrayList<>();
    private Thread starter;
    private GuestLink link;
    private boolean closed;
    private volatile String failure;

    private AsyncGuest(TestbedLog log) {
        this.log = log;
    }

    /**
     * Starts the guest on a new thread and returns at once.
     *
     * @param vmDir      the VM directory
     * @param log        the VM's log
     * @param timeout    how long the guest may take to listen on its control socket
     * @param bootEvent  the {@code boot} control event
     * @param beforeBoot run with the guest's pid once its control socket accepts, before {@code boot} is sent
     * @param onFailure  run once when the start fails (not when it is cancelled by {@link #close()})
     * @return the starting guest
     */
    static AsyncGuest start(Path vmDir, TestbedLog log, Duration timeout, Map<String, Object> bootEvent,
                            BeforeBoot beforeBoot, Runnable onFailure) {
        AsyncGuest g = new AsyncGuest(log);
        synchronized (g) {
            g.starter = Thread.ofPlatform().daemon().name("ch-guest-start")
                    .start(() -> g.run(vmDir, timeout, bootEvent, beforeBoot, onFailure));
        }
        return g;
    }

    private void run(Path vmDir, Duration timeout, Map<String, Object> bootEvent, BeforeBoot beforeBoot,
                     Runnable onFailure) {
        GuestLink started = null;
        try {
            started = GuestLink.start(vmDir, log, timeout);
            synchronized (this) {
                if (closed) {
                    throw new IOException("cancelled");
                }
            }
            beforeBoot.run(started.process().pid());
            synchronized (this) {
                if (closed) {
                    throw new IOException("cancelled");
                }
                started.send(bootEvent);
                queued.forEach(started::send);
                queued.clear();
                link = started;
            }
            log.log("ch", "guest-booting", Map.of("pid", started.process().pid()));
        } catch (IOException | RuntimeException e) {
            boolean cancelled;
            synchronized (this) {
                cancelled = closed;
                if (!cancelled) {
                    failure = String.valueOf(e.getMessage());
                    queued.clear();
                }
            }
            if (started != null) {
                started.close();
            }
            if (!cancelled) {
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("error", failure);
                f.put("guestLog", vmDir.resolve("guest.log").toString());
                log.log("ch", "guest-start-failed", f);
                System.err.println("cloud-hypervisor stand-in: guest start failed: " + failure);
                onFailure.run();
            }
        }
    }

    /** @return why the start failed, or null while it is starting or after it succeeded */
    String failure() {
        return failure;
    }

    /**
     * Sends a control event now, or after {@code boot} while the guest is still starting; drops it (logged
     * {@code guest-event-lost}) when the start failed or the guest was stopped.
     *
     * @param event the event
     */
    synchronized void send(Map<String, Object> event) {
        if (link != null) {
            link.send(event);
        } else if (!closed && failure == null) {
            queued.add(event);
        } else {
            log.log("ch", "guest-event-lost", Map.of("event", event, "error", failure != null ? failure : "guest stopped"));
        }
    }

    /** Cancels a start in progress (the guest process is killed) or stops the running guest; waits for both. */
    @Override
    public void close() {
        GuestLink running;
        Thread t;
        synchronized (this) {
            closed = true;
            running = link;
            link = null;
            t = starter;
        }
        if (running == null && t != null && t.isAlive()) {
            t.interrupt();
        }
        try {
            if (t != null) {
                t.join(Duration.ofSeconds(30));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (running != null) {
            running.close();
        }
    }
}
