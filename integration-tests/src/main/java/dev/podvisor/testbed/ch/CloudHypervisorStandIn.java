package dev.podvisor.testbed.ch;

import dev.podvisor.testbed.log.TestbedLog;

import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.UnixSockets;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The cloud-hypervisor stand-in: serves Cloud Hypervisor's REST API on the API socket and models one VM.
 * This class owns the process-level lifecycle (API socket, connections, exit); {@link ApiConnection} serves
 * one connection, {@link VmmApi} routes requests, {@link Vm} holds the VM, {@link VmBoot} boots it,
 * {@link HotPlug} adds and removes devices, {@link PciBus} hands out ids and slots, {@link VmValidation}
 * checks configs, {@link FsBackends} connects virtio-fs backends and {@link GuestLink} runs the guest.
 *
 * <p><b>Faithful to:</b> Cloud Hypervisor {@code main} after v53.0 as summarised in
 * {@code shared/reference/protocols.md} §5: error bodies are JSON arrays of the error chain (v47+); a
 * malformed body or wrong method is 400; a request while no VM exists is 404 (v53: VmNotCreated); an
 * unknown device id on {@code vm.remove-device} is 404 and a duplicate device id 409 (post-v53); a config
 * rejected by validation is 400; I/O failures (a disk path that does not exist, a vhost-user backend that
 * does not answer) are 500. Only PUT and GET are routed (other methods: 400 without body); unknown paths are
 * 404 {@code ["Not Found"]}.
 *
 * <p>Deliberate simplifications, each visible to a client only as documented here:
 * <ul>
 *   <li>{@code vm.create} only deserialises (as CH, which stores the config); validation, file checks, the
 *       vsock socket bind and the vhost-user connections happen at {@code vm.boot}, as in CH.</li>
 *   <li>After {@code vm.shutdown}, {@code vm.info} reports state {@code Shutdown} (CH drops the VM object and
 *       reports {@code Created}); {@code vm.boot} from there boots again.</li>
 *   <li>Boot-time PCI slots are handed out in CH's device creation order (console unless {@code Off}, disks,
 *       net, rng, fs, pmem, vsock, balloon, watchdog, pvpanic, VFIO devices, user devices, vDPA) from slot 1 of
 *       each segment; a hot-plugged device takes the lowest free slot of its segment. Ids come from CH's one
 *       shared counter ({@code _disk0}, {@code _fs1}, ...); the device tree holds for each virtio device a
 *       node {@code <id>} whose parent is {@code _virtio-pci-<id>}, and that transport node carries
 *       {@code pci_bdf}.</li>
 *   <li>Nets come only as tap queue fds passed with {@code vm.add-net} ({@code SCM_RIGHTS}, as both Kata
 *       runtimes send them, see {@link NetDevices}); a {@code tap} name, a net without fds and vhost-user nets
 *       answer 500 naming the testbed limit. The guest NIC is a tap in the guest's network namespace with
 *       a frame relay ({@link GuestNic}). {@code vm.add-vsock},
 *       vDPA, user devices, snapshot/restore/migration, reboot, NMI, power button, coredump, resize-zone and
 *       resize-disk answer 500 {@code [..., "not supported by the testbed"]}.</li>
 * </ul>
 *
 * <p>Guest control events follow the testbed contract; virtio-fs entries ({@code boot.fs[]}, {@code add-fs})
 * also carry the device {@code id} so that a later {@code remove-device} can be matched to a tag.
 *
 * <p>Every request and answer goes to {@code <vm dir>/testbed.jsonl} (kinds {@code api-request},
 * {@code api-response}); the vm dir is the API socket's directory.
 */
public final class CloudHypervisorStandIn implements AutoCloseable {
    /** The version this stand-in claims in {@code vmm.ping}. */
    public static final String VERSION = "v53.0.0-podvisor-testbed";

    /** The answer to one request. @param status HTTP status @param body JSON text or null */
    public record Response(int status, String body) {
    }

    /**
     * Tunables.
     *
     * @param guestStartTimeout    how long {@code vm.boot} waits for the guest's control socket
     * @param vhostUserTimeout     how long {@code vm.boot}/{@code vm.add-fs} retry connecting to a virtio-fs
     *                             backend socket
     */
    public record Options(Duration guestStartTimeout, Duration vhostUserTimeout) {
        /** @return 60 s for the guest, 10 s for vhost-user backends */
        public static Options defaults() {
            return new Options(Duration.ofSeconds(60), Duration.ofSeconds(10));
        }
    }

    private final Path apiSocket;
    private final Path vmDir;
    private final TestbedLog log;
    private final boolean ownsSocketFile;
    private final int listenFd;
    private final VmmApi api;
    private final CountDownLatch exited = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private final Set<ApiConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private volatile Runnable onExit = () -> { };

    private CloudHypervisorStandIn(Path apiSocket, Options options, TestbedLog log, boolean ownsSocketFile,
                                   int listenFd) {
        this.apiSocket = apiSocket;
        this.vmDir = apiSocket.toAbsolutePath().getParent();
        this.log = log;
        this.ownsSocketFile = ownsSocketFile;
        this.listenFd = listenFd;
        this.api = new VmmApi(new Vm(vmDir, options, log));
    }

    /**
     * Binds the API socket and starts serving; each connection is served on its own platform thread (reads
     * use {@code recvmsg(2)} to receive {@code SCM_RIGHTS} fds, a blocking FFM call).
     *
     * @param apiSocket the {@code --api-socket} path; its directory must exist and the path must not (CH's
     *                  bind fails with "Address in use" otherwise)
     * @param options   tunables
     * @return the running stand-in
     * @throws IOException if the socket cannot be bound or the log opened
     */
    public static CloudHypervisorStandIn start(Path apiSocket, Options options) throws IOException {
        Path abs = apiSocket.toAbsolutePath();
        if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
            throw new IOException("--api-socket " + apiSocket + ": directory does not exist");
        }
        int server;
        try {
            server = UnixSockets.listen(abs, 64);
        } catch (LinuxException | IllegalArgumentException e) {
            throw new IOException("Error creating API server socket " + abs + ": " + e.getMessage(), e);
        }
        TestbedLog log;
        try {
            log = TestbedLog.open(abs.getParent().resolve("testbed.jsonl"));
        } catch (RuntimeException e) {
            dev.podvisor.storage.linux.Linux.closeQuietly(server);
            Files.deleteIfExists(abs);
            throw new IOException(e.getMessage(), e);
        }
        CloudHypervisorStandIn ch = new CloudHypervisorStandIn(abs, options, log, true, server);
        log.log("ch", "start", Map.of("apiSocket", abs.toString(), "pid", ProcessHandle.current().pid(),
                "version", VERSION));
        Thread.ofPlatform().daemon().name("ch-api-accept").start(ch::acceptLoop);
        Thread.ofVirtual().name("ch-vm-dir-watch").start(ch::watchVmDir);
        return ch;
    }

    /**
     * Serves the API on an inherited listening unix socket ({@code --api-socket fd=<n>}); the VM directory is
     * the directory of the path that socket is bound to. Connections are served on platform threads (FFM
     * calls block their carrier). On exit the descriptor is shut down and closed; its file is left to whoever
     * created it.
     *
     * @param fd      the listening socket descriptor
     * @param options tunables
     * @return the running stand-in
     * @throws IOException if the descriptor is not a unix socket bound to a path, or the log cannot be opened
     */
    public static CloudHypervisorStandIn startOnFd(int fd, Options options) throws IOException {
        Path abs = Path.of(RawSocket.boundPath(fd)).toAbsolutePath();
        TestbedLog log;
        try {
            log = TestbedLog.open(abs.getParent().resolve("testbed.jsonl"));
        } catch (RuntimeException e) {
            throw new IOException(e.getMessage(), e);
        }
        CloudHypervisorStandIn ch = new CloudHypervisorStandIn(abs, options, log, false, fd);
        log.log("ch", "start", Map.of("apiSocket", abs.toString(), "apiFd", fd, "pid", ProcessHandle.current().pid(),
                "version", VERSION));
        Thread.ofPlatform().daemon().name("ch-api-accept-fd").start(ch::acceptLoop);
        Thread.ofVirtual().name("ch-vm-dir-watch").start(ch::watchVmDir);
        return ch;
    }

    /** @param onExit run once after the stand-in stopped (e.g. {@code System.exit}) */
    public void onExit(Runnable onExit) {
        this.onExit = onExit;
    }

    /** @return the VM directory (the API socket's directory) */
    public Path vmDir() {
        return vmDir;
    }

    /**
     * Waits until the stand-in stopped ({@code vmm.shutdown}, {@link #close()}, or the VM directory vanished).
     *
     * @param timeout how long to wait
     * @return true if it stopped
     * @throws InterruptedException if interrupted
     */
    public boolean awaitExit(Duration timeout) throws InterruptedException {
        return exited.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Handles one API request (the socket server calls this; tests may call it directly).
     *
     * @param method HTTP method
     * @param path   request path, e.g. {@code /api/v1/vm.info}
     * @param body   request body (may be empty)
     * @return status and JSON body
     */
    public Response handle(String method, String path, byte[] body) {
        return api.handle(method, path, body, new int[0]);
    }

    private void acceptLoop() {
        while (!closing.get()) {
            int fd;
            try {
                fd = UnixSockets.accept(listenFd);
            } catch (LinuxException e) {
                if (!closing.get()) {
                    log.log("ch", "api-accept-failed", Map.of("error", String.valueOf(e.getMessage())));
                    System.err.println("cloud-hypervisor stand-in: accept on the API socket failed: " + e.getMessage());
                }
                return;
            }
            long id = connectionIds.incrementAndGet();
            ApiConnection conn = new ApiConnection(fd, id);
            connections.add(conn);
            Thread.ofPlatform().daemon().name("ch-api-conn-" + id).start(() -> {
                conn.serve(api, log, this::close);
                connections.remove(conn);
            });
        }
    }

    private void watchVmDir() {
        while (!closing.get()) {
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                return;
            }
            if (!Files.isDirectory(vmDir)) {
                log.log("ch", "vm-dir-gone", Map.of("vmDir", vmDir.toString()));
                close();
                return;
            }
        }
    }

    /**
     * Stops the stand-in: tears the VM down (guest, vsock, virtio-fs backends), closes the API socket and
     * every connection, removes the API socket file, closes the log and runs the exit hook. Idempotent.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        api.teardown("vmm exit");
        RawSocket.shutdown(listenFd);
        dev.podvisor.storage.linux.Linux.closeQuietly(listenFd);
        if (ownsSocketFile) {
            try {
                Files.deleteIfExists(apiSocket);
            } catch (IOException ignored) {
                // best effort
            }
        }
        connections.forEach(ApiConnection::close);
        log.log("ch", "exit", Map.of());
        log.close();
        exited.countDown();
        onExit.run();
    }
}
