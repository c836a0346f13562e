package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.testbed.log.TestbedLog;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The cloud-hypervisor stand-in: serves Cloud Hypervisor's REST API on the API socket and models one VM
 * (the VM config, its state, PCI slots and device tree, the hybrid vsock front, the virtio-fs backends'
 * connections and the guest emulator process).
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
 *   <li>{@code vm.add-net} and {@code VmConfig.net} take a {@code tap} name (no tap device is created); a
 *       NetConfig with {@code fds} (descriptors passed as SCM_RIGHTS) is refused with 400. {@code vm.add-vsock},
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

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ROOT = "/api/v1/";
    private static final int SLOTS_PER_BUS = 32;

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

    private record Dev(String id, String kind, int segment, int slot) {
        String bdf() {
            return String.format("%04x:00:%02x.0", segment, slot);
        }
    }

    private record FsBackend(String tag, String socket, String sharedDir, SocketChannel channel) {
    }

    /** One API connection, over a JDK channel or an FFM descriptor. */
    private record Conn(InputStream in, OutputStream out, java.io.Closeable closer) {
        void close() {
            try {
                closer.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
    }

    private final Path apiSocket;
    private final Path vmDir;
    private final Options options;
    private final TestbedLog log;
    private final ServerSocketChannel server;
    private final int listenFd;
    private final ReentrantLock vmm = new ReentrantLock();
    private final CountDownLatch exited = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private final Set<Conn> connections = ConcurrentHashMap.newKeySet();
    private final AtomicLong connectionIds = new AtomicLong();
    private volatile Runnable onExit = () -> { };

    // VM state, guarded by vmm
    private ObjectNode config;
    private String state;
    private long idCounter;
    private final Map<Integer, BitSet> slots = new HashMap<>();
    private final Map<String, Dev> devices = new LinkedHashMap<>();
    private final Map<String, FsBackend> fsBackends = new LinkedHashMap<>();
    private HybridVsock vsock;
    private GuestLink guest;

    private CloudHypervisorStandIn(Path apiSocket, Options options, TestbedLog log, ServerSocketChannel server,
                                   int listenFd) {
        this.apiSocket = apiSocket;
        this.vmDir = apiSocket.toAbsolutePath().getParent();
        this.options = options;
        this.log = log;
        this.server = server;
        this.listenFd = listenFd;
    }

    /**
     * Binds the API socket and starts serving on virtual threads.
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
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(abs));
        } catch (IOException e) {
            server.close();
            throw new IOException("Error creating API server socket " + abs + ": " + e.getMessage(), e);
        }
        TestbedLog log;
        try {
            log = TestbedLog.open(abs.getParent().resolve("testbed.jsonl"));
        } catch (RuntimeException e) {
            server.close();
            Files.deleteIfExists(abs);
            throw new IOException(e.getMessage(), e);
        }
        CloudHypervisorStandIn ch = new CloudHypervisorStandIn(abs, options, log, server, -1);
        log.log("ch", "start", Map.of("apiSocket", abs.toString(), "pid", ProcessHandle.current().pid(),
                "version", VERSION));
        Thread.ofVirtual().name("ch-api-accept").start(ch::acceptLoop);
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
        CloudHypervisorStandIn ch = new CloudHypervisorStandIn(abs, options, log, null, fd);
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

    private void acceptLoop() {
        while (!closing.get()) {
            Conn conn;
            try {
                if (server != null) {
                    SocketChannel c = server.accept();
                    conn = new Conn(new BufferedInputStream(Channels.newInputStream(c)), Channels.newOutputStream(c), c);
                } else {
                    int fd = RawSocket.accept(listenFd);
                    conn = new Conn(new BufferedInputStream(RawSocket.inputStream(fd)), RawSocket.outputStream(fd), () -> {
                        RawSocket.shutdown(fd);
                        RawSocket.close(fd);
                    });
                }
            } catch (IOException e) {
                return;
            }
            connections.add(conn);
            long id = connectionIds.incrementAndGet();
            Conn c = conn;
            (server != null ? Thread.ofVirtual() : Thread.ofPlatform().daemon(true)).name("ch-api-conn-" + id)
                    .start(() -> serve(c, id));
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

    private void serve(Conn c, long connId) {
        try {
            InputStream in = c.in();
            OutputStream out = c.out();
            while (true) {
                MiniHttp.Request req;
                try {
                    req = MiniHttp.read(in, out);
                } catch (MiniHttp.BadRequest e) {
                    log.log("ch", "api-bad-request", Map.of("conn", connId, "error", e.getMessage()));
                    MiniHttp.write(out, 400, errorBody(List.of("Bad Request", e.getMessage())), true);
                    return;
                }
                if (req == null) {
                    return;
                }
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("conn", connId);
                f.put("method", req.method());
                f.put("path", req.path());
                f.put("body", bodyForLog(req.body()));
                log.log("ch", "api-request", f);
                boolean exitAfter = req.path().equals(ROOT + "vmm.shutdown") && req.method().equals("PUT");
                Response r = handle(req.method(), req.path(), req.body());
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("conn", connId);
                g.put("path", req.path());
                g.put("status", r.status());
                g.put("body", r.body() == null ? null : bodyForLog(r.body().getBytes(StandardCharsets.UTF_8)));
                log.log("ch", "api-response", g);
                MiniHttp.write(out, r.status(), r.body(), req.wantsClose() || (exitAfter && r.status() == 204));
                if (exitAfter && r.status() == 204) {
                    Thread.ofVirtual().start(this::close);
                    return;
                }
                if (req.wantsClose()) {
                    return;
                }
            }
        } catch (IOException e) {
            // client went away
        } finally {
            c.close();
            connections.remove(c);
        }
    }

    private static Object bodyForLog(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private static String errorBody(List<String> chain) {
        try {
            return JSON.writeValueAsString(chain);
        } catch (JsonProcessingException e) {
            return "[\"error\"]";
        }
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
        if (!path.startsWith(ROOT)) {
            return new Response(404, errorBody(List.of("Not Found")));
        }
        String endpoint = path.substring(ROOT.length());
        if (!method.equals("PUT") && !method.equals("GET")) {
            return new Response(400, null);
        }
        vmm.lock();
        try {
            JsonNode result = route(method, endpoint, body == null ? new byte[0] : body);
            if (result == null) {
                return new Response(204, null);
            }
            return new Response(200, JSON.writeValueAsString(result));
        } catch (ApiError e) {
            return new Response(e.status(), e.status() == 400 && e.chain().isEmpty() ? null : errorBody(e.chain()));
        } catch (RuntimeException | JsonProcessingException e) {
            return new Response(500, errorBody(List.of("Internal Server Error", String.valueOf(e))));
        } finally {
            vmm.unlock();
        }
    }

    private static final Set<String> UNSUPPORTED = Set.of("vm.add-vsock", "vm.add-vdpa",
            "vm.add-user-device", "vm.add-generic-vhost-user", "vm.snapshot", "vm.restore", "vm.coredump",
            "vm.send-migration", "vm.receive-migration", "vm.reboot", "vm.nmi", "vm.resize-zone",
            "vm.resize-disk", "vm.power-button");

    private JsonNode route(String method, String endpoint, byte[] body) throws ApiError {
        boolean put = method.equals("PUT");
        switch (endpoint) {
            case "vmm.ping" -> {
                requireMethod(!put);
                ObjectNode n = JSON.createObjectNode();
                n.put("build_version", VERSION);
                n.put("version", "53.0.0");
                n.put("pid", ProcessHandle.current().pid());
                n.putArray("features").add("kvm");
                return n;
            }
            case "vmm.shutdown" -> {
                requireMethod(put);
                teardownVm("vmm.shutdown");
                config = null;
                state = null;
                return null;
            }
            case "vm.create" -> {
                requireMethod(put);
                return vmCreate(body);
            }
            case "vm.info" -> {
                requireMethod(!put);
                return vmInfo();
            }
            case "vm.counters" -> {
                requireMethod(!put);
                requireBooted("The VM counters could not be retrieved");
                ObjectNode n = JSON.createObjectNode();
                for (Dev d : devices.values()) {
                    if (d.kind().equals("disks")) {
                        ObjectNode c = n.putObject(d.id());
                        c.put("read_bytes", 0).put("read_ops", 0).put("write_bytes", 0).put("write_ops", 0);
                    }
                }
                return n;
            }
            case "vm.boot" -> {
                requireMethod(put);
                vmBoot();
                return null;
            }
            case "vm.shutdown" -> {
                requireMethod(put);
                requireCreated("The VM could not shut down");
                if (!"Running".equals(state) && !"Paused".equals(state)) {
                    throw ApiError.of(500, "Error from API", "The VM could not shut down",
                            "Invalid VM state transition: " + state + " to Shutdown");
                }
                teardownVm("vm.shutdown");
                state = "Shutdown";
                return null;
            }
            case "vm.delete" -> {
                requireMethod(put);
                teardownVm("vm.delete");
                config = null;
                state = null;
                return null;
            }
            case "vm.pause", "vm.resume" -> {
                requireMethod(put);
                boolean pause = endpoint.equals("vm.pause");
                String what = pause ? "The VM could not be paused" : "The VM could not resume";
                requireCreated(what);
                String from = pause ? "Running" : "Paused";
                String to = pause ? "Paused" : "Running";
                if (!from.equals(state)) {
                    throw ApiError.of(500, "Error from API", what, "Invalid VM state transition: " + state + " to " + to);
                }
                state = to;
                return null;
            }
            case "vm.resize" -> {
                requireMethod(put);
                return vmResize(body);
            }
            case "vm.add-disk" -> {
                requireMethod(put);
                return addDevice("disks", ChSchema.DISK, body, "The disk could not be added to the VM");
            }
            case "vm.add-fs" -> {
                requireMethod(put);
                return addDevice("fs", ChSchema.FS, body, "The fs could not be added to the VM");
            }
            case "vm.add-pmem" -> {
                requireMethod(put);
                return addDevice("pmem", ChSchema.PMEM, body, "The pmem device could not be added to the VM");
            }
            case "vm.add-net" -> {
                requireMethod(put);
                return addDevice("net", ChSchema.NET, body, "The network device could not be added to the VM");
            }
            case "vm.add-device" -> {
                requireMethod(put);
                return addDevice("devices", ChSchema.DEVICE, body, "The device could not be added to the VM");
            }
            case "vm.remove-device" -> {
                requireMethod(put);
                removeDevice(body);
                return null;
            }
            default -> {
                if (UNSUPPORTED.contains(endpoint)) {
                    requireMethod(put);
                    throw ApiError.of(500, "Error from API", endpoint + " is not supported by the testbed");
                }
                throw new ApiError(404, List.of("Not Found"));
            }
        }
    }

    private static void requireMethod(boolean ok) throws ApiError {
        if (!ok) {
            throw ApiError.of(400, "Bad Request");
        }
    }

    private void requireCreated(String what) throws ApiError {
        if (config == null) {
            throw ApiError.of(404, "Error from API", what, "The VM is not created");
        }
    }

    private void requireBooted(String what) throws ApiError {
        requireCreated(what);
        if (!"Running".equals(state) && !"Paused".equals(state)) {
            throw ApiError.of(500, "Error from API", what, "The VM is not booted");
        }
    }

    private static JsonNode parseBody(byte[] body, ChSchema.Type type) throws ApiError {
        if (body.length == 0) {
            throw ApiError.of(400, "Bad Request", "missing request body");
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(body);
        } catch (IOException e) {
            throw ApiError.of(400, "Failed to deserialize JSON", firstLine(e.getMessage()));
        }
        try {
            return ChSchema.check(type, tree);
        } catch (ChSchema.SchemaException e) {
            throw ApiError.of(400, "Failed to deserialize JSON", e.getMessage());
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "invalid JSON";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private JsonNode vmCreate(byte[] body) throws ApiError {
        ObjectNode cfg = (ObjectNode) parseBody(body, ChSchema.VM_CONFIG);
        if (config != null) {
            throw ApiError.of(500, "Error from API", "The VM could not be created", "The VM is already created");
        }
        JsonNode vs = cfg.get("vsock");
        if (vs != null && vs.get("cid").asLong() < 3) {
            throw ApiError.of(400, "Error from API", "The VM could not be created",
                    "vsock.cid: " + vs.get("cid").asLong() + " is reserved (CIDs 0-2), it must be >= 3");
        }
        config = cfg;
        state = "Created";
        return null;
    }

    private JsonNode vmInfo() throws ApiError {
        requireCreated("The VM info is not available");
        ObjectNode n = JSON.createObjectNode();
        n.set("config", config.deepCopy());
        n.put("state", state);
        JsonNode mem = config.get("memory");
        long actual = mem.get("size").asLong() + (mem.hasNonNull("hotplugged_size") ? mem.get("hotplugged_size").asLong() : 0);
        n.put("memory_actual_size", actual);
        ObjectNode tree = n.putObject("device_tree");
        if ("Running".equals(state) || "Paused".equals(state)) {
            for (Dev d : devices.values()) {
                String pciId = "_virtio-pci-" + d.id();
                boolean virtio = !d.kind().equals("devices");
                ObjectNode dev = tree.putObject(d.id());
                dev.put("id", d.id());
                dev.putArray("resources");
                if (virtio) {
                    dev.put("parent", pciId);
                    dev.putArray("children");
                    dev.putNull("pci_bdf");
                    ObjectNode pci = tree.putObject(pciId);
                    pci.put("id", pciId);
                    pci.putArray("resources");
                    pci.putNull("parent");
                    pci.putArray("children").add(d.id());
                    pci.put("pci_bdf", d.bdf());
                } else {
                    dev.putNull("parent");
                    dev.putArray("children");
                    dev.put("pci_bdf", d.bdf());
                }
            }
        }
        return n;
    }

    private JsonNode vmResize(byte[] body) throws ApiError {
        JsonNode r = parseBody(body, ChSchema.VM_RESIZE);
        requireBooted("The VM could not be resized");
        ObjectNode cpus = (ObjectNode) config.get("cpus");
        ObjectNode mem = (ObjectNode) config.get("memory");
        if (r.hasNonNull("desired_vcpus")) {
            long want = r.get("desired_vcpus").asLong();
            if (want < 1 || want > cpus.get("max_vcpus").asLong()) {
                throw ApiError.of(500, "Error from API", "The VM could not be resized",
                        "desired_vcpus " + want + " outside 1.." + cpus.get("max_vcpus").asLong());
            }
            cpus.put("boot_vcpus", want);
        }
        if (r.hasNonNull("desired_ram")) {
            long want = r.get("desired_ram").asLong();
            long size = mem.get("size").asLong();
            long hotplug = mem.hasNonNull("hotplug_size") ? mem.get("hotplug_size").asLong() : 0;
            if (want < size || want > size + hotplug) {
                throw ApiError.of(500, "Error from API", "The VM could not be resized",
                        "desired_ram " + want + " outside " + size + ".." + (size + hotplug) + " (memory.size + memory.hotplug_size)");
            }
            mem.put("hotplugged_size", want - size);
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------
    // boot

    private void vmBoot() throws ApiError {
        requireCreated("The VM could not boot");
        if ("Running".equals(state) || "Paused".equals(state)) {
            throw ApiError.of(500, "Error from API", "The VM could not boot", "The VM is already booted");
        }
        String what = "The VM could not boot";
        validate(config, what);
        checkFiles(what);
        List<Dev> planned = planBootDevices(what);
        try {
            JsonNode vs = config.get("vsock");
            if (vs != null) {
                try {
                    vsock = HybridVsock.listen(Path.of(vs.get("socket").asText()), vmDir.resolve("guest-vsock"), log);
                } catch (IOException e) {
                    throw ApiError.of(500, "Error from API", what, "Cannot create virtio-vsock device", e.getMessage());
                }
            }
            ArrayNode fsList = arr("fs");
            for (JsonNode fs : fsList) {
                String id = fs.get("id").asText();
                fsBackends.put(id, connectBackend(fs, what));
            }
            for (Dev d : planned) {
                devices.put(d.id(), d);
            }
            try {
                Files.createDirectories(vmDir.resolve("guest-vsock"));
                guest = GuestLink.start(vmDir, log, options.guestStartTimeout());
            } catch (IOException e) {
                throw ApiError.of(500, "Error from API", what, "Cannot start the guest emulator", e.getMessage());
            }
            Map<String, Object> boot = new LinkedHashMap<>();
            boot.put("event", "boot");
            List<Map<String, Object>> fsEv = new ArrayList<>();
            for (Map.Entry<String, FsBackend> b : fsBackends.entrySet()) {
                fsEv.add(fsEvent(null, b.getKey(), b.getValue()));
            }
            boot.put("fs", fsEv);
            List<Map<String, Object>> disks = new ArrayList<>();
            for (JsonNode disk : arr("disks")) {
                disks.add(diskEvent(null, devices.get(disk.get("id").asText()), disk));
            }
            boot.put("disks", disks);
            boot.put("log", log.file().toString());
            guest.send(boot);
            state = "Running";
        } catch (ApiError e) {
            teardownVm("boot failed");
            throw e;
        }
    }

    private ArrayNode arr(String name) {
        JsonNode n = config.get(name);
        return n instanceof ArrayNode a ? a : JSON.createArrayNode();
    }

    /** A virtio-fs entry of the boot/add-fs events: the contract's tag and sharedDir, plus the device id. */
    private static Map<String, Object> fsEvent(String event, String id, FsBackend b) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (event != null) {
            m.put("event", event);
        }
        m.put("tag", b.tag());
        m.put("sharedDir", b.sharedDir());
        m.put("id", id);
        return m;
    }

    private static Map<String, Object> diskEvent(String event, Dev d, JsonNode disk) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (event != null) {
            m.put("event", event);
        }
        m.put("id", d.id());
        m.put("bdf", d.bdf());
        m.put("path", disk.hasNonNull("path") ? disk.get("path").asText() : null);
        m.put("readonly", disk.get("readonly").asBoolean());
        return m;
    }

    /** Semantic checks CH's VmConfig::validate makes that matter to Kata (all answer 400). */
    private void validate(ObjectNode cfg, String what) throws ApiError {
        JsonNode payload = cfg.get("payload");
        if (!payload.hasNonNull("kernel") && !payload.hasNonNull("firmware") && !payload.hasNonNull("igvm")) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    "payload: no kernel, firmware or igvm specified");
        }
        JsonNode cpus = cfg.get("cpus");
        if (cpus.get("boot_vcpus").asLong() == 0 || cpus.get("boot_vcpus").asLong() > cpus.get("max_vcpus").asLong()) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    "cpus: boot_vcpus " + cpus.get("boot_vcpus") + " must be 1..max_vcpus (" + cpus.get("max_vcpus") + ")");
        }
        JsonNode topo = cpus.get("topology");
        if (topo != null) {
            long product = 1;
            for (String part : List.of("threads_per_core", "cores_per_die", "dies_per_package", "packages")) {
                long v = topo.get(part).asLong();
                if (v == 0) {
                    throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                            "cpus.topology." + part + " is 0");
                }
                product *= v;
            }
            if (product != cpus.get("max_vcpus").asLong()) {
                throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                        "cpus.topology: threads_per_core * cores_per_die * dies_per_package * packages = " + product
                                + " but max_vcpus is " + cpus.get("max_vcpus").asLong());
            }
        }
        boolean shared = cfg.get("memory").get("shared").asBoolean() || cfg.get("memory").get("hugepages").asBoolean();
        boolean vhostUser = arr("fs").size() > 0;
        for (JsonNode d : arr("disks")) {
            vhostUser |= d.get("vhost_user").asBoolean();
        }
        if (vhostUser && !shared) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    "Using vhost-user requires using shared memory or huge pages (memory.shared is false)");
        }
        int segments = numSegments(cfg);
        Set<String> ids = new java.util.HashSet<>();
        for (String list : List.of("disks", "net", "fs", "pmem", "devices", "user_devices", "vdpa")) {
            for (JsonNode d : arr(list)) {
                checkSegment(d, list, segments, what);
                if (d.hasNonNull("id") && !ids.add(d.get("id").asText())) {
                    throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                            "Identifier " + d.get("id").asText() + " is not unique");
                }
            }
        }
        JsonNode vs = cfg.get("vsock");
        if (vs != null) {
            checkSegment(vs, "vsock", segments, what);
        }
        for (JsonNode d : arr("disks")) {
            if (!d.get("vhost_user").asBoolean() && !d.hasNonNull("path")) {
                throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                        "disks: path is required unless vhost_user is set");
            }
        }
        for (JsonNode n : arr("net")) {
            if (n.has("fds")) {
                throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                        "net: 'fds' need the tap descriptors passed as SCM_RIGHTS, which the testbed does not support; use 'tap'");
            }
        }
    }

    private static int numSegments(JsonNode cfg) {
        JsonNode p = cfg.get("platform");
        return p != null && p.hasNonNull("num_pci_segments") ? p.get("num_pci_segments").asInt() : 1;
    }

    private static void checkSegment(JsonNode d, String list, int segments, String what) throws ApiError {
        int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
        if (seg >= segments) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    list + ": pci_segment " + seg + " is not below platform.num_pci_segments (" + segments + ")");
        }
    }

    private void checkFiles(String what) throws ApiError {
        JsonNode payload = config.get("payload");
        for (String f : List.of("kernel", "firmware", "initramfs", "igvm")) {
            if (payload.hasNonNull(f) && !Files.exists(Path.of(payload.get(f).asText()))) {
                throw ApiError.of(500, "Error from API", what, "Cannot open " + f + " file " + payload.get(f).asText(),
                        "No such file or directory (os error 2)");
            }
        }
        for (JsonNode d : arr("disks")) {
            if (d.hasNonNull("path") && !Files.exists(Path.of(d.get("path").asText()))) {
                throw ApiError.of(500, "Error from API", what, "Cannot open disk path " + d.get("path").asText(),
                        "No such file or directory (os error 2)");
            }
        }
        for (JsonNode d : arr("pmem")) {
            if (!Files.exists(Path.of(d.get("file").asText()))) {
                throw ApiError.of(500, "Error from API", what, "Cannot open pmem file " + d.get("file").asText(),
                        "No such file or directory (os error 2)");
            }
        }
    }

    /** Assigns ids and PCI slots to the boot devices in CH's creation order; writes ids back into the config. */
    private List<Dev> planBootDevices(String what) throws ApiError {
        slots.clear();
        devices.clear();
        idCounter = 0;
        List<Dev> out = new ArrayList<>();
        if (!"Off".equals(config.get("console").get("mode").asText())) {
            out.add(new Dev("__console", "console", 0, takeSlot(0, what)));
        }
        planList("disks", "_disk", out, what);
        planList("net", "_net", out, what);
        out.add(new Dev("__rng", "rng", 0, takeSlot(0, what)));
        planList("fs", "_fs", out, what);
        planList("pmem", "_pmem", out, what);
        JsonNode vs = config.get("vsock");
        if (vs != null) {
            String id = vs.hasNonNull("id") ? vs.get("id").asText() : nextId("_vsock");
            ((ObjectNode) vs).put("id", id);
            int seg = vs.get("pci_segment").asInt();
            out.add(new Dev(id, "vsock", seg, takeSlot(seg, what)));
        }
        if (config.get("balloon") != null) {
            out.add(new Dev("__balloon", "balloon", 0, takeSlot(0, what)));
        }
        if (config.get("watchdog").asBoolean()) {
            out.add(new Dev("__watchdog", "watchdog", 0, takeSlot(0, what)));
        }
        if (config.get("pvpanic").asBoolean()) {
            out.add(new Dev("__pvpanic", "pvpanic", 0, takeSlot(0, what)));
        }
        planList("devices", "_vfio", out, what);
        planList("user_devices", "_vfio_user", out, what);
        planList("vdpa", "_vdpa", out, what);
        return out;
    }

    private void planList(String list, String prefix, List<Dev> out, String what) throws ApiError {
        for (JsonNode d : arr(list)) {
            String id = d.hasNonNull("id") ? d.get("id").asText() : nextId(prefix);
            ((ObjectNode) d).put("id", id);
            int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
            out.add(new Dev(id, list, seg, takeSlot(seg, what)));
        }
    }

    private String nextId(String prefix) {
        while (true) {
            String id = prefix + idCounter++;
            if (!devices.containsKey(id) && !configHasId(id)) {
                return id;
            }
        }
    }

    private boolean configHasId(String id) {
        for (String list : List.of("disks", "net", "fs", "pmem", "devices", "user_devices", "vdpa")) {
            for (JsonNode d : arr(list)) {
                if (d.hasNonNull("id") && d.get("id").asText().equals(id)) {
                    return true;
                }
            }
        }
        return false;
    }

    private int takeSlot(int segment, String what) throws ApiError {
        BitSet used = slots.computeIfAbsent(segment, s -> {
            BitSet b = new BitSet(SLOTS_PER_BUS);
            b.set(0); // the PCI root / host bridge
            return b;
        });
        int slot = used.nextClearBit(0);
        if (slot >= SLOTS_PER_BUS) {
            throw ApiError.of(500, "Error from API", what, "No available PCI slot on segment " + segment);
        }
        used.set(slot);
        return slot;
    }

    private FsBackend connectBackend(JsonNode fs, String what) throws ApiError {
        String socket = fs.get("socket").asText();
        String tag = fs.get("tag").asText();
        long deadline = System.nanoTime() + options.vhostUserTimeout().toNanos();
        IOException last = null;
        while (System.nanoTime() < deadline || last == null) {
            SocketChannel c = null;
            try {
                c = SocketChannel.open(StandardProtocolFamily.UNIX);
                c.connect(UnixDomainSocketAddress.of(socket));
                ByteBuffer q = ByteBuffer.wrap("SHARED-DIR\n".getBytes(StandardCharsets.US_ASCII));
                while (q.hasRemaining()) {
                    c.write(q);
                }
                String dir = readLine(c);
                if (dir == null) {
                    throw new IOException("virtiofsd closed the connection without answering SHARED-DIR");
                }
                log.log("ch", "vhost-user-connected", Map.of("tag", tag, "socket", socket, "sharedDir", dir));
                return new FsBackend(tag, socket, dir, c);
            } catch (IOException e) {
                last = e;
                if (c != null) {
                    try {
                        c.close();
                    } catch (IOException ignored) {
                        // retry
                    }
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        throw ApiError.of(500, "Error from API", what, "Cannot create virtio-fs device",
                "Failed connecting the backend " + socket + " after " + options.vhostUserTimeout().toMillis() + " ms: "
                        + (last == null ? "interrupted" : last.getMessage()));
    }

    private static String readLine(SocketChannel c) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (c.read(one) < 0) {
                return null;
            }
            byte b = one.get(0);
            if (b == '\n') {
                return sb.toString();
            }
            sb.append((char) (b & 0xff));
            if (sb.length() > 4096) {
                throw new IOException("SHARED-DIR answer too long");
            }
        }
    }

    /** Stops the guest, closes vsock and vhost-user connections; keeps the config. */
    private void teardownVm(String why) {
        if (guest != null) {
            guest.close();
            guest = null;
        }
        if (vsock != null) {
            vsock.close();
            vsock = null;
        }
        for (FsBackend b : fsBackends.values()) {
            try {
                b.channel().close();
            } catch (IOException ignored) {
                // gone already
            }
        }
        fsBackends.clear();
        devices.clear();
        slots.clear();
        log.log("ch", "vm-teardown", Map.of("reason", why));
    }

    // ---------------------------------------------------------------------------------------------------------
    // hot-plug

    private JsonNode addDevice(String list, ChSchema.Struct schema, byte[] body, String what) throws ApiError {
        ObjectNode d = (ObjectNode) parseBody(body, schema);
        requireCreated(what);
        boolean booted = "Running".equals(state) || "Paused".equals(state);
        int seg = d.hasNonNull("pci_segment") ? d.get("pci_segment").asInt() : 0;
        checkSegment(d, list, numSegments(config), what);
        if (d.hasNonNull("id") && (devices.containsKey(d.get("id").asText()) || configHasId(d.get("id").asText()))) {
            throw ApiError.of(409, "Error from API", what, "Identifier " + d.get("id").asText() + " is not unique");
        }
        if (list.equals("fs") || (list.equals("disks") && d.get("vhost_user").asBoolean())) {
            JsonNode mem = config.get("memory");
            if (!mem.get("shared").asBoolean() && !mem.get("hugepages").asBoolean()) {
                throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                        "Using vhost-user requires using shared memory or huge pages (memory.shared is false)");
            }
        }
        if (list.equals("disks") && !d.get("vhost_user").asBoolean() && !d.hasNonNull("path")) {
            throw ApiError.of(400, "Error from API", what, "Error validating VM configuration",
                    "disks: path is required unless vhost_user is set");
        }
        if (list.equals("net") && d.has("fds")) {
            throw ApiError.of(400, "Error from API", what,
                    "net: 'fds' need the tap descriptors passed as SCM_RIGHTS, which the testbed does not support; use 'tap'");
        }
        if (!booted) {
            ArrayNode a = config.get(list) instanceof ArrayNode x ? x : config.putArray(list);
            a.add(d);
            return null;
        }
        String pathField = switch (list) {
            case "pmem" -> "file";
            case "fs", "net" -> null;
            default -> "path";
        };
        if (pathField != null && d.hasNonNull(pathField) && !Files.exists(Path.of(d.get(pathField).asText()))) {
            String kind = list.equals("disks") ? "disk path" : list.equals("pmem") ? "pmem file" : "device path";
            throw ApiError.of(500, "Error from API", what, "Cannot open " + kind + " " + d.get(pathField).asText(),
                    "No such file or directory (os error 2)");
        }
        String prefix = switch (list) {
            case "disks" -> "_disk";
            case "fs" -> "_fs";
            case "pmem" -> "_pmem";
            case "net" -> "_net";
            default -> "_vfio";
        };
        String id = d.hasNonNull("id") ? d.get("id").asText() : nextId(prefix);
        d.put("id", id);
        FsBackend backend = null;
        if (list.equals("fs")) {
            backend = connectBackend(d, what);
        }
        int slot;
        try {
            slot = takeSlot(seg, what);
        } catch (ApiError e) {
            if (backend != null) {
                try {
                    backend.channel().close();
                } catch (IOException ignored) {
                    // gone
                }
            }
            throw e;
        }
        Dev dev = new Dev(id, list, seg, slot);
        devices.put(id, dev);
        ArrayNode a = config.get(list) instanceof ArrayNode x ? x : config.putArray(list);
        a.add(d);
        if (backend != null) {
            fsBackends.put(id, backend);
            if (guest != null) {
                guest.send(fsEvent("add-fs", id, backend));
            }
        } else if (list.equals("disks") && guest != null) {
            guest.send(diskEvent("add-disk", dev, d));
        }
        ObjectNode info = JSON.createObjectNode();
        info.put("id", id);
        info.put("bdf", dev.bdf());
        return info;
    }

    private void removeDevice(byte[] body) throws ApiError {
        JsonNode r = parseBody(body, ChSchema.VM_REMOVE_DEVICE);
        String what = "The device could not be removed from the VM";
        requireCreated(what);
        String id = r.get("id").asText();
        boolean booted = "Running".equals(state) || "Paused".equals(state);
        Dev dev = booted ? devices.get(id) : null;
        if (booted && (dev == null || dev.id().startsWith("__"))) {
            throw ApiError.of(404, "Error from API", what, "No device with id " + id);
        }
        boolean removed = false;
        for (String list : List.of("disks", "net", "fs", "pmem", "devices", "user_devices", "vdpa")) {
            JsonNode a = config.get(list);
            if (a instanceof ArrayNode arr) {
                for (Iterator<JsonNode> it = arr.iterator(); it.hasNext(); ) {
                    JsonNode d = it.next();
                    if (d.hasNonNull("id") && d.get("id").asText().equals(id)) {
                        it.remove();
                        removed = true;
                    }
                }
            }
        }
        if (!booted) {
            if (!removed) {
                throw ApiError.of(404, "Error from API", what, "No device with id " + id);
            }
            return;
        }
        devices.remove(id);
        BitSet used = slots.get(dev.segment());
        if (used != null) {
            used.clear(dev.slot());
        }
        FsBackend b = fsBackends.remove(id);
        if (b != null) {
            try {
                b.channel().close();
            } catch (IOException ignored) {
                // gone
            }
        }
        if (guest != null) {
            Map<String, Object> ev = new LinkedHashMap<>();
            ev.put("event", "remove-device");
            ev.put("id", id);
            guest.send(ev);
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
        vmm.lock();
        try {
            teardownVm("vmm exit");
        } finally {
            vmm.unlock();
        }
        if (server != null) {
            try {
                server.close();
            } catch (IOException ignored) {
                // best effort
            }
            try {
                Files.deleteIfExists(apiSocket);
            } catch (IOException ignored) {
                // best effort
            }
        } else {
            RawSocket.shutdown(listenFd);
            RawSocket.close(listenFd);
        }
        for (Conn c : connections) {
            c.close();
        }
        log.log("ch", "exit", Map.of());
        log.close();
        exited.countDown();
        onExit.run();
    }
}
