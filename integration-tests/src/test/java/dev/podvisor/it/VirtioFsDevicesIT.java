package dev.podvisor.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.TestbedLog;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Extra virtio-fs devices as Kata's RFC 7380 designs them (docs/virtio-fs.md), through real containerd, the
 * shim and the testbed: the RFC's own typo example refused by {@code ctr run} and by {@code podvisor plan}, every
 * special-volume mistake refused with nothing left behind, and a pod with two extra devices whose volumes each
 * reach the container through their own virtiofsd. Needs root, containerd and runc (CI has them).
 */
class VirtioFsDevicesIT {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String EXTRA = "io.katacontainers.config.hypervisor.extra_virtiofs";
    static final String SPECIAL = "io.katacontainers.config.runtime.special_volumes";
    static final String LOOP = "trap 'exit 0' TERM; while true; do sleep 0.2; done";

    @TempDir
    static Path classDir;
    static PrivateContainerd containerd;
    static Path stateDir;
    static Path sharedRoot;

    @TempDir
    Path dir;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeAll
    static void startContainerd() {
        Path config = TestbedConfig.write(classDir.resolve("config"), "enable_annotations = [\"extra_virtiofs\"]", 30);
        stateDir = classDir.resolve("config/state");
        sharedRoot = classDir.resolve("config/shared");
        containerd = PrivateContainerd.start(config);
        BusyboxImage.importInto(containerd, "default");
    }

    @AfterAll
    static void stopContainerd() {
        if (containerd != null) {
            containerd.close();
        }
    }

    @BeforeEach
    void snapshot() {
        before = Leftovers.take();
        markers.add(dir.toString());
    }

    @AfterEach
    void nothingLeftBehind() throws IOException {
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
        Leftovers.assertNothingNewSince(before, markers);
        for (Path root : List.of(stateDir, sharedRoot)) {
            if (Files.isDirectory(root)) {
                try (var entries = Files.list(root)) {
                    List<String> left = entries.map(p -> p.getFileName().toString())
                            .filter(name -> markers.contains(name)).toList();
                    assertEquals(List.of(), left, "nothing of this test's sandboxes is left in " + root);
                }
            }
        }
    }

    private String id(String stem) {
        String id = containerd.uniqueId(stem);
        markers.add(id);
        return id;
    }

    private Path source(String name, String content) throws IOException {
        Path source = Files.createDirectories(dir.resolve(name));
        Files.writeString(source.resolve("file"), content);
        return source;
    }

    /** {@code ctr run --rm} of {@code echo never} that must fail; returns ctr's error output. */
    private String refused(String id, String... options) {
        List<String> args = new ArrayList<>(List.of("run", "--rm", "--runtime", RUNTIME));
        args.addAll(List.of(options));
        args.addAll(List.of(BusyboxImage.NAME, id, "echo", "never"));
        CommandResult result = containerd.ctr(Duration.ofSeconds(120), args.toArray(String[]::new));
        assertFalse(result.ok(), result.toString());
        assertFalse(result.stdout().contains("never"), result.toString());
        containerd.ctr("container", "rm", id);
        return result.stderr();
    }

    // ------------------------------------------------------------------------------------- the RFC's typo

    @Test
    void theRfcTypoExampleIsRefusedByCtrRun() throws IOException {
        Path source = source("f00", "typo\n");
        String error = refused(id("typo"), "--annotation", EXTRA + "=dev01:--thread-pool-size=1",
                "--annotation", SPECIAL + "=dev01:/my-volume/foo",
                "--mount", "type=bind,src=" + source + ",dst=/my-v0lumes/f00,options=rbind:rw");
        assertTrue(error.contains("annotation " + SPECIAL + ": token 'dev01:/my-volume/foo': No virtiofs device was found"
                + " for container special volume '/my-volume/foo' (device 'dev01')"), error);
        assertTrue(error.contains("/my-v0lumes/f00"), "the mount it could have meant is listed: " + error);
    }

    private Path typoBundle(Map<String, String> moreAnnotations) throws IOException {
        Path source = source("f00", "typo\n");
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.createDirectories(bundle.resolve("rootfs"));
        Map<String, String> annotations = new HashMap<>(Map.of(EXTRA, "dev01:--thread-pool-size=1", SPECIAL, "dev01:/my-volume/foo"));
        annotations.putAll(moreAnnotations);
        ObjectMapper json = new ObjectMapper();
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"},
                 "annotations": %s,
                 "mounts": [{"destination": "/my-v0lumes/f00", "type": "bind", "source": "%s", "options": ["rbind", "rw"]}]}
                """.formatted(json.writeValueAsString(annotations), source));
        return bundle;
    }

    private CommandResult plan(Path bundle, String... options) {
        List<String> args = new ArrayList<>(List.of(Installed.get().cli().toString(), "plan", "--config",
                classDir.resolve("config/configuration.toml").toString()));
        args.addAll(List.of(options));
        args.add(bundle.toString());
        return Commands.run(args, new byte[0], Duration.ofSeconds(60), Map.of());
    }

    @Test
    void theRfcTypoExampleIsRefusedByPodvisorPlan() throws IOException {
        String want = "podvisor plan: annotation " + SPECIAL + ": token 'dev01:/my-volume/foo': No virtiofs device was found"
                + " for container special volume '/my-volume/foo' (device 'dev01')";
        for (Map<String, String> cri : List.of(Map.<String, String>of(),
                Map.of("io.kubernetes.cri.container-type", "container", "io.kubernetes.cri.sandbox-id", "pod1"))) {
            Path bundle = typoBundle(cri);
            for (List<String> options : List.of(List.<String>of(), List.of("--json"), List.of("--sandbox-id", "pod1", "--id", "app"))) {
                CommandResult result = plan(bundle, options.toArray(String[]::new));
                assertEquals(1, result.exitCode(), cri + " " + options + ": " + result);
                assertTrue(result.stderr().contains(want), cri + " " + options + ": " + result);
                assertEquals("", result.stdout(), result.toString());
            }
        }
    }

    @Test
    void podvisorPlanShowsTheDeviceOfEachVirtioFsMount() throws IOException {
        Path bundle = typoBundle(Map.of(SPECIAL, "dev01:/my-v0lumes/f00"));
        CommandResult text = plan(bundle);
        assertEquals(0, text.exitCode(), text.toString());
        assertTrue(text.stdout().lines().anyMatch(l -> l.startsWith("/my-v0lumes/f00") && l.contains(" virtio-fs ")
                && l.contains(" dev01 ") && l.endsWith("special-volume")), text.stdout());
        assertTrue(text.stdout().lines().anyMatch(l -> l.startsWith("(rootfs)") && l.contains(" kataShared ")), text.stdout());
        assertTrue(text.stdout().contains("virtio-fs device dev01: virtiofsd --thread-pool-size=1"), text.stdout());
        CommandResult json = plan(bundle, "--json");
        assertEquals(0, json.exitCode(), json.toString());
        JsonNode mount = new ObjectMapper().readTree(json.stdout()).path("mounts").get(0);
        assertEquals("/my-v0lumes/f00", mount.path("destination").asText());
        assertEquals("virtio-fs", mount.path("kind").asText());
        assertEquals("dev01", mount.path("device").asText());
        assertEquals("/run/kata-containers/shared/dev01", mount.path("guestPath").asText().replaceFirst("/[^/]+$", ""));
    }

    // ------------------------------------------------------------------------------ each mistake, refused

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            dev01:/my-volume/foo         | token 'dev01:/my-volume/foo': No virtiofs device was found for container special volume '/my-volume/foo'
            dev02:/data                  | token 'dev02:/data': unknown device 'dev02' in 'dev02:/data' (extra virtio-fs devices: [dev01])
            dev01/data                   | token 'dev01/data': malformed entry 'dev01/data': no device name
            dev01:data                   | token 'dev01:data': malformed entry 'dev01:data': container path 'data' is not an absolute path
            dev01:/data/../etc           | token 'dev01:/data/../etc': malformed entry 'dev01:/data/../etc'
            dev01:/data;dev02:/data      | token 'dev02:/data': unknown device 'dev02'
            """)
    void aSpecialVolumeMistakeFailsTheStartCleanly(String value, String problem) throws IOException {
        Path source = source("data", "data\n");
        String error = refused(id("bad"), "--annotation", EXTRA + "=dev01:--thread-pool-size=1",
                "--annotation", SPECIAL + "=" + value,
                "--mount", "type=bind,src=" + source + ",dst=/data,options=rbind:rw");
        assertTrue(error.contains("annotation " + SPECIAL + ": " + problem), error);
    }

    @Test
    void oneContainerPathToTwoDevicesIsRefused() throws IOException {
        Path source = source("data", "data\n");
        String error = refused(id("two"), "--annotation", EXTRA + "=dev01:--thread-pool-size=1;dev02:--cache=never",
                "--annotation", SPECIAL + "=dev01:/data;dev02:/data",
                "--mount", "type=bind,src=" + source + ",dst=/data,options=rbind:rw");
        assertTrue(error.contains("token 'dev02:/data': container path '/data' is sent to two devices, 'dev01' and 'dev02'"), error);
    }

    @Test
    void aSpecialVolumeAnEarlierRuleTakesIsRefused() {
        Path cache = dir.resolve("pods/uid/volumes/kubernetes.io~empty-dir/cache");
        Commands.run(List.of("mkdir", "-p", cache.toString())).requireSuccess();
        Commands.run(List.of("mount", "-t", "tmpfs", "-o", "size=16m", "podvisor-it-emptydir", cache.toString())).requireSuccess();
        try {
            String error = refused(id("early"), "--annotation", EXTRA + "=dev01:--thread-pool-size=1",
                    "--annotation", SPECIAL + "=dev01:/cache",
                    "--mount", "type=bind,src=" + cache + ",dst=/cache,options=rbind:rw");
            assertTrue(error.contains("token 'dev01:/cache': container special volume '/cache' (device 'dev01') cannot be"
                    + " served by a virtio-fs device: rule 'emptydir-tmpfs' decided it (guest-tmpfs)"), error);
        } finally {
            Commands.run(List.of("umount", cache.toString()));
        }
    }

    // ------------------------------------------------------------------------------ a pod with two devices

    @Test
    void aPodWithTwoExtraDevicesServesEachVolumeThroughItsOwnVirtiofsd() throws Exception {
        String devices = "db:--cache=never;models:--cache=always --thread-pool-size=4";
        Path db = source("db", "rows\n");
        Path models = source("models", "weights\n");
        String pod = id("pod");
        String app = id("app");
        containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                "--annotation", "io.kubernetes.cri.container-type=sandbox", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                "--annotation", EXTRA + "=" + devices, "--annotation", SPECIAL + "=db:/db;models:/models",
                BusyboxImage.NAME, pod, "sh", "-c", LOOP).requireSuccess();
        try {
            containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", RUNTIME,
                    "--annotation", "io.kubernetes.cri.container-type=container", "--annotation", "io.kubernetes.cri.sandbox-id=" + pod,
                    "--annotation", EXTRA + "=" + devices, "--annotation", SPECIAL + "=db:/db;models:/models",
                    "--mount", "type=bind,src=" + db + ",dst=/db,options=rbind:rw",
                    "--mount", "type=bind,src=" + models + ",dst=/models,options=rbind:ro",
                    BusyboxImage.NAME, app, "sh", "-c", LOOP).requireSuccess();

            // three FsConfigs at vm.create, three vhost-user backends, each serving its own device's directory
            List<JsonNode> log = testbedLog(stateDir.resolve(pod).resolve("testbed.jsonl"));
            JsonNode create = log.stream().filter(e -> e.path("kind").asText().equals("api-request")
                    && e.path("path").asText().endsWith("vm.create")).findFirst().orElseThrow();
            List<String> tags = new ArrayList<>();
            create.path("body").path("fs").forEach(fs -> tags.add(fs.path("tag").asText()));
            assertEquals(List.of("kataShared", "db", "models"), tags, create.toString());
            Map<String, String> served = new HashMap<>();
            log.stream().filter(e -> e.path("kind").asText().equals("vhost-user-connected"))
                    .forEach(e -> served.put(e.path("tag").asText(), e.path("sharedDir").asText()));
            Path share = sharedRoot.resolve(pod);
            assertEquals(Map.of("kataShared", share.resolve("ro").toString(), "db", share.resolve("db/ro").toString(),
                    "models", share.resolve("models/ro").toString()), served);

            // three virtiofsd processes, with the right arguments each
            Map<String, String> argv = new HashMap<>();
            ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                    .filter(c -> c.contains("VirtiofsdMain") && c.contains(stateDir.resolve(pod).toString()))
                    .forEach(c -> argv.put(c.replaceFirst(".*virtiofsd-([^ ]+)\\.sock.*", "$1"), c.replaceFirst(".*VirtiofsdMain ", "")));
            assertEquals(3, argv.size(), argv.toString());
            assertTrue(argv.get("kataShared").endsWith("--shared-dir " + share.resolve("ro")
                    + " --cache auto --thread-pool-size=1 --announce-submounts"), argv.get("kataShared"));
            assertTrue(argv.get("db").endsWith("--shared-dir " + share.resolve("db/ro") + " --cache never"), argv.get("db"));
            assertTrue(argv.get("models").endsWith("--shared-dir " + share.resolve("models/ro") + " --cache always --thread-pool-size=4"),
                    argv.get("models"));

            // each volume's data reaches the container, from its own device's share
            CommandResult read = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "r", app, "sh", "-c",
                    "cat /db/file /models/file; echo more >> /db/file; touch /models/new 2>/dev/null && echo writable || echo read-only");
            assertEquals("rows\nweights\nread-only\n", read.stdout(), read.toString());
            assertEquals("rows\nmore\n", Files.readString(db.resolve("file")), "the db volume is the host directory, read-write");
            assertEquals(List.of("rows\nmore\n"), filesUnder(share.resolve("db/ro")), "db's data is in db's share");
            assertEquals(List.of("weights\n"), filesUnder(share.resolve("models/ro")), "models' data is in models' share");
            try (var onDefault = Files.list(share.resolve("ro"))) {
                List<String> names = onDefault.map(p -> p.getFileName().toString()).toList();
                assertTrue(names.stream().noneMatch(n -> n.endsWith("-db") || n.endsWith("-models")),
                        "neither volume goes through kataShared: " + names);
            }

            // a second container of the pod may not send /db to another device
            String sidecar = id("sidecar");
            String error = refused(sidecar, "--annotation", "io.kubernetes.cri.container-type=container",
                    "--annotation", "io.kubernetes.cri.sandbox-id=" + pod, "--annotation", EXTRA + "=" + devices,
                    "--annotation", SPECIAL + "=models:/db", "--mount", "type=bind,src=" + db + ",dst=/db,options=rbind:rw");
            assertTrue(error.contains("token 'models:/db': container path '/db' is sent to device 'models', but container "
                    + app + " of the same pod sends it to device 'db'"), error);
            CommandResult still = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "s", app, "cat", "/db/file");
            assertEquals("rows\nmore\n", still.stdout(), "the pod is unharmed: " + still);
        } finally {
            for (String id : List.of(app, pod)) {
                containerd.ctr("task", "kill", "-s", "SIGTERM", id);
                containerd.ctr(Duration.ofSeconds(60), "task", "delete", "-f", id);
                containerd.ctr("container", "rm", id);
            }
        }
    }

    private static List<JsonNode> testbedLog(Path file) throws IOException {
        return TestbedLog.read(file);
    }

    /** The contents of the regular files below {@code root}, at any depth. */
    private static List<String> filesUnder(Path root) throws IOException {
        try (var walk = Files.walk(root)) {
            List<String> contents = new ArrayList<>();
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                contents.add(Files.readString(p));
            }
            return contents;
        }
    }
}
