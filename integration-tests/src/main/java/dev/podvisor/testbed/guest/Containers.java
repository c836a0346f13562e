package dev.podvisor.testbed.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.storage.linux.ConsoleSocket;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The containers of the guest, run with runc ({@code runc} on PATH) on guest paths, the way the kata-agent
 * runs them with rustjail: a bundle under the guest root, {@code runc create} / {@code start} /
 * {@code exec --detach} / {@code kill} / {@code delete --force} / {@code pause} / {@code resume}, with the
 * runc state under {@code <vm-dir>/runc} and cgroups at {@code /podvisor-testbed/<vm>/<cid>}.
 *
 * <p>Errors: {@link NoSuchElementException} for an unknown container or exec id,
 * {@link IllegalStateException} for a duplicate id, {@link IllegalArgumentException} for a bad spec, and
 * {@link UncheckedIOException} carrying runc's own error text when runc fails.
 */
final class Containers {

    /** A container: its bundle, the mount points its storages took, its processes. */
    static final class Container {
        final String id;
        final Path bundle;
        final List<String> storages;
        final GuestProcess init;
        final Map<String, GuestProcess> execs = new ConcurrentHashMap<>();

        Container(String id, Path bundle, List<String> storages, GuestProcess init) {
            this.id = id;
            this.bundle = bundle;
            this.storages = storages;
            this.init = init;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONSOLE_TIMEOUT = Duration.ofSeconds(30);

    private final Path vmDir;
    private final GuestRoot root;
    private final StorageManager storages;
    private final GuestEvents events;
    private final String cgroupParent;
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    /** Ids whose CreateContainer is in progress. */
    private final java.util.Set<String> creating = ConcurrentHashMap.newKeySet();

    /**
     * @param vmDir    the VM directory (runc state in {@code runc/}, stdio fifos in {@code io/})
     * @param root     the guest root
     * @param storages performs the containers' storages
     * @param events   the log
     */
    Containers(Path vmDir, GuestRoot root, StorageManager storages, GuestEvents events) {
        this.vmDir = vmDir;
        this.root = root;
        this.storages = storages;
        this.events = events;
        String vm = vmDir.getFileName() == null ? "vm" : vmDir.getFileName().toString();
        this.cgroupParent = "/podvisor-testbed/" + vm.replaceAll("[^A-Za-z0-9_.-]", "_");
    }

    /** The cgroups parent of this VM's containers ({@code /podvisor-testbed/<vm>}). */
    String cgroupParent() {
        return cgroupParent;
    }

    private Path runcRoot() {
        return vmDir.resolve("runc");
    }

    private List<String> runc(String containerId, String... args) {
        List<String> argv = new ArrayList<>(List.of("runc", "--root", runcRoot().toString(), "--log",
                vmDir.resolve("io").resolve(containerId).resolve("runc.log").toString(), "--log-format", "json"));
        argv.addAll(List.of(args));
        return argv;
    }

    /** Runs one runc command to completion; its error text (log or stderr) in the exception otherwise. */
    private void runcCheck(String containerId, String... args) {
        List<String> argv = runc(containerId, args);
        try {
            Files.createDirectories(vmDir.resolve("io").resolve(containerId));
            Commands.Result result = Commands.run(argv);
            events.log("runc", Map.of("args", List.of(args), "exit", result.exitCode()));
            if (result.exitCode() != 0) {
                throw new UncheckedIOException(new IOException("runc " + String.join(" ", args) + ": "
                        + runcError(containerId, result.stderr())));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The last error runc logged, else its stderr. */
    private String runcError(String containerId, String stderr) {
        Path log = vmDir.resolve("io").resolve(containerId).resolve("runc.log");
        String last = null;
        try {
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    try {
                        JsonNode node = JSON.readTree(line);
                        if ("error".equals(node.path("level").asText()) || "fatal".equals(node.path("level").asText())) {
                            last = node.path("msg").asText();
                        }
                    } catch (IOException ignored) {
                        // not JSON
                    }
                }
            }
        } catch (IOException ignored) {
            // no log
        }
        return last != null ? last : stderr.strip();
    }

    /**
     * {@code CreateContainer}: performs the storages, writes the bundle, {@code runc create}.
     *
     * @param spec     the OCI spec ({@code grpc.Spec})
     * @param requests the container's storages
     */
    void create(String id, com.google.protobuf.Message spec, List<StorageRequest> requests) {
        requireId("container_id", id);
        if (containers.containsKey(id) || !creating.add(id)) {
            throw new IllegalStateException("container " + id + ": already exists");
        }
        try {
            createReserved(id, spec, requests);
        } finally {
            creating.remove(id);
        }
    }

    private void createReserved(String id, com.google.protobuf.Message spec, List<StorageRequest> requests) {
        Map<String, Object> config = OciSpecs.config(spec, root, cgroupParent + "/" + id);
        List<String> taken = storages.add(requests);
        Path bundle = root.host("bundle", GuestRoot.KATA_PREFIX + id);
        try {
            Files.createDirectories(bundle);
            Files.writeString(bundle.resolve("config.json"), JSON.writeValueAsString(config));
            @SuppressWarnings("unchecked")
            Map<String, Object> process = (Map<String, Object>) config.get("process");
            boolean terminal = Boolean.TRUE.equals(process.get("terminal"));
            GuestProcess init = new GuestProcess(id, "", terminal);
            Container container = new Container(id, bundle, taken, init);
            containers.put(id, container);
            try {
                spawn(init, "create", "--bundle", bundle.toString());
            } catch (RuntimeException e) {
                containers.remove(id);
                throw e;
            }
        } catch (IOException e) {
            cleanupFailedCreate(id, bundle, taken);
            throw new UncheckedIOException("container " + id + ": bundle", e);
        } catch (RuntimeException e) {
            cleanupFailedCreate(id, bundle, taken);
            throw e;
        }
    }

    private void cleanupFailedCreate(String id, Path bundle, List<String> taken) {
        try {
            Commands.run(runc(id, "delete", "--force", id));
        } catch (IOException ignored) {
            // nothing was created
        }
        storages.release(taken);
        removeBundle(bundle);
    }

    /** Removes config.json and the bundle directory when empty; never descends into storages below it. */
    private static void removeBundle(Path bundle) {
        try {
            Files.deleteIfExists(bundle.resolve("config.json"));
            Files.deleteIfExists(bundle);
        } catch (IOException ignored) {
            // a storage mount point below the bundle keeps it
        }
    }

    /**
     * Starts runc ({@code create} or {@code exec --detach}) for {@code process} with its stdio, waits for it
     * and starts reaping the process. The runc arguments {@code --pid-file}, {@code --console-socket} and
     * the container id are added here.
     */
    private void spawn(GuestProcess process, String... args) {
        String cid = process.containerId();
        String name = process.execId().isEmpty() ? "init" : "exec-" + process.execId();
        Path io = vmDir.resolve("io").resolve(cid).resolve(name);
        Path pidFile = io.resolve("pid");
        List<String> argv = new ArrayList<>(List.of(args));
        try {
            Files.createDirectories(io);
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException("stdio directory " + io, e);
        }
        int status;
        String stderr;
        int[] fds = {-1, -1, -1, -1, -1};
        ConsoleSocket console = null;
        try {
            ProcessBuilder builder;
            if (process.terminal()) {
                console = ConsoleSocket.listen(io.resolve("console.sock"));
                argv.add(1, "--console-socket");
                argv.add(2, console.path().toString());
                argv.add(1, "--pid-file");
                argv.add(2, pidFile.toString());
                argv.add(cid);
                builder = new ProcessBuilder(runc(cid, argv.toArray(String[]::new)))
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
            } else {
                Path in = io.resolve("stdin");
                Path out = io.resolve("stdout");
                Path err = io.resolve("stderr");
                for (Path fifo : List.of(in, out, err)) {
                    Files.deleteIfExists(fifo);
                }
                Commands.check(List.of("mkfifo", "-m", "600", in.toString(), out.toString(), err.toString()));
                // holders keep every fifo open both ways so that no open below blocks
                fds[0] = Linux.open(in.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
                fds[1] = Linux.open(out.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
                fds[2] = Linux.open(err.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
                fds[3] = Linux.open(out.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
                fds[4] = Linux.open(err.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
                argv.add(1, "--pid-file");
                argv.add(2, pidFile.toString());
                argv.add(cid);
                builder = new ProcessBuilder(runc(cid, argv.toArray(String[]::new)))
                        .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
            }
            Process runc = builder.start();
            int master = -1;
            if (console != null) {
                ConsoleSocket socket = console;
                int[] received = {-1};
                RuntimeException[] failure = {null};
                Thread receiver = Thread.ofPlatform().daemon().start(() -> {
                    try {
                        received[0] = socket.receiveFd(CONSOLE_TIMEOUT);
                    } catch (RuntimeException e) {
                        failure[0] = e;
                    }
                });
                stderr = new String(runc.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                status = waitFor(runc);
                if (status != 0) {
                    socket.close();
                }
                receiver.join();
                master = received[0];
                if (status == 0 && master < 0) {
                    throw new UncheckedIOException(new IOException("runc " + args[0] + " " + cid
                            + ": no pty master on the console socket: " + failure[0]));
                }
            } else {
                status = waitFor(runc);
                stderr = "";
            }
            if (status != 0) {
                if (master >= 0) {
                    Linux.closeQuietly(master);
                }
                throw new UncheckedIOException(new IOException("runc " + args[0] + " " + cid + ": "
                        + runcError(cid, stderr)));
            }
            int pid = Integer.parseInt(Files.readString(pidFile).strip());
            if (console != null) {
                process.attachTerminal(master);
            } else {
                int writer = Linux.open(io.resolve("stdin").toString(), Linux.O_WRONLY | Linux.O_CLOEXEC);
                process.attachPipes(writer, fds[3], fds[4]);
                fds[3] = -1;
                fds[4] = -1;
            }
            process.started(pid);
            events.log("process", Map.of("containerId", cid, "execId", process.execId(), "pid", pid,
                    "terminal", process.terminal()));
        } catch (IOException e) {
            throw new UncheckedIOException("runc " + args[0] + " " + cid, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            for (int fd : fds) {
                Linux.closeQuietly(fd);
            }
            if (console != null) {
                console.close();
            }
        }
    }

    private static int waitFor(Process process) throws InterruptedException {
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor();
        }
        return process.exitValue();
    }

    /** {@code StartContainer}: {@code runc start}. */
    void start(String id) {
        container(id);
        runcCheck(id, "start", id);
    }

    /**
     * {@code ExecProcess}: {@code runc exec --detach --process <process.json>}.
     *
     * @param process the {@code grpc.Process} message
     */
    void exec(String id, String execId, com.google.protobuf.Message process) {
        requireId("exec_id", execId);
        ProcessNames.requireExecName(id, execId);
        Container container = container(id);
        if (container.execs.containsKey(execId)) {
            throw new IllegalStateException("exec " + execId + " of container " + id + ": already exists");
        }
        Map<String, Object> json = OciSpecs.process(process);
        boolean terminal = Boolean.TRUE.equals(json.get("terminal"));
        GuestProcess exec = new GuestProcess(id, execId, terminal);
        Path file = vmDir.resolve("io").resolve(id).resolve("exec-" + execId + ".json");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, JSON.writeValueAsString(json));
        } catch (IOException e) {
            throw new UncheckedIOException("process.json of exec " + execId, e);
        }
        container.execs.put(execId, exec);
        try {
            spawn(exec, "exec", "--detach", "--process", file.toString());
        } catch (RuntimeException e) {
            container.execs.remove(execId);
            throw e;
        }
    }

    /** The process {@code execId} of container {@code id} ({@code ""} or {@code id} = init, see {@link ProcessNames}). */
    GuestProcess process(String id, String execId) {
        Container container = container(id);
        if (ProcessNames.namesMainProcess(id, execId)) {
            return container.init;
        }
        GuestProcess exec = container.execs.get(execId);
        if (exec == null) {
            throw new NoSuchElementException("exec " + execId + " of container " + id + ": not found");
        }
        return exec;
    }

    /** {@code PauseContainer} / {@code ResumeContainer}. */
    void pause(String id, boolean pause) {
        container(id);
        runcCheck(id, pause ? "pause" : "resume", id);
    }

    /** {@code UpdateContainer}: {@code runc update --resources}. */
    void update(String id, com.google.protobuf.Message resources) {
        container(id);
        Path file = vmDir.resolve("io").resolve(id).resolve("resources.json");
        try {
            Files.writeString(file, JSON.writeValueAsString(OciSpecs.toJson(resources)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        runcCheck(id, "update", "--resources", file.toString(), id);
    }

    /** {@code RemoveContainer}: {@code runc delete --force}, then its storages are released. */
    void remove(String id) {
        Container container = container(id);
        runcCheck(id, "delete", "--force", id);
        containers.remove(id);
        finish(container);
    }

    private void finish(Container container) {
        for (GuestProcess p : allProcesses(container)) {
            p.signal(Linux.SIGKILL);
            p.abort();
        }
        storages.release(container.storages);
        removeBundle(container.bundle);
        deleteTree(vmDir.resolve("io").resolve(container.id));
    }

    /** Kills and deletes every container (DestroySandbox, shutdown). */
    void removeAll() {
        for (Container container : List.copyOf(containers.values())) {
            try {
                Commands.run(runc(container.id, "delete", "--force", container.id));
            } catch (IOException e) {
                events.log("error", Map.of("action", "runc-delete", "containerId", container.id,
                        "message", String.valueOf(e.getMessage())));
            }
            containers.remove(container.id);
            finish(container);
        }
    }

    /** Ids of the current containers. */
    List<String> ids() {
        return List.copyOf(containers.keySet());
    }

    private static List<GuestProcess> allProcesses(Container container) {
        List<GuestProcess> all = new ArrayList<>(container.execs.values());
        all.add(container.init);
        return all;
    }

    Container container(String id) {
        Container container = id == null ? null : containers.get(id);
        if (container == null) {
            throw new NoSuchElementException("container " + id + ": not found");
        }
        return container;
    }

    private static void requireId(String field, String id) {
        if (id == null || id.isEmpty() || !id.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException(field + " '" + id + "': not a valid id");
        }
    }

    /**
     * Deletes {@code dir} recursively without crossing into other file systems (a mount point below it and
     * what it holds are left alone); best effort.
     */
    static void deleteTree(Path dir) {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Object device = Files.getAttribute(dir, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult preVisitDirectory(Path d,
                        java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                    return device.equals(Files.getAttribute(d, "unix:dev", java.nio.file.LinkOption.NOFOLLOW_LINKS))
                            ? java.nio.file.FileVisitResult.CONTINUE : java.nio.file.FileVisitResult.SKIP_SUBTREE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFile(Path f,
                        java.nio.file.attribute.BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(f);
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path f, IOException e) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult postVisitDirectory(Path d, IOException e) {
                    try {
                        Files.deleteIfExists(d);
                    } catch (IOException notEmpty) {
                        // holds a mount point
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }

    /** Field map for the log. */
    static Map<String, Object> describe(String id, String execId) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("containerId", id);
        if (execId != null && !execId.isEmpty()) {
            map.put("execId", execId);
        }
        return map;
    }

    /** Linux's LinuxException is an unchecked I/O failure too; kept for callers that catch it. */
    static boolean isLinux(RuntimeException e) {
        return e instanceof LinuxException;
    }
}
