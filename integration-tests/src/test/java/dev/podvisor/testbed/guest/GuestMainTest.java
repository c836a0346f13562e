package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.CheckRequest;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.DestroySandboxRequest;
import dev.podvisor.protocols.agent.ExecProcessRequest;
import dev.podvisor.protocols.agent.HealthCheckResponse;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.PauseContainerRequest;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.RemoveContainerRequest;
import dev.podvisor.protocols.agent.ResumeContainerRequest;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.SignalProcessRequest;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.TtyWinResizeRequest;
import dev.podvisor.protocols.agent.UpdateEphemeralMountsRequest;
import dev.podvisor.protocols.agent.VersionCheckResponse;
import dev.podvisor.protocols.agent.VolumeStatsRequest;
import dev.podvisor.protocols.agent.VolumeStatsResponse;
import dev.podvisor.protocols.agent.WaitProcessRequest;
import dev.podvisor.protocols.agent.WaitProcessResponse;
import dev.podvisor.protocols.agent.WriteStreamRequest;
import dev.podvisor.protocols.agent.WriteStreamResponse;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Drives {@link GuestMain} as a real process under {@code unshare --mount --propagation private}, with a
 * fake VMM on the control socket and a ttrpc client on {@code <vsock-listen-dir>/1024.sock}.
 *
 * <p>Needs root, {@code runc}, {@code unshare}/{@code nsenter}, {@code mkfs.ext4} and a static busybox
 * ({@code /bin/busybox}, Debian package busybox-static) — all present in CI. Everything it creates (temp
 * dir, loop device, mounts in the guest's namespace, cgroups) is removed at the end, and the end checks it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestMainTest {

    private static final String AGENT = "grpc.AgentService";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SHARED = "/run/kata-containers/shared/containers/";

    private Path dir;
    private Path vmDir;
    private Path share;
    private Path image;
    private GuestHarness guest;
    private TtrpcClient agent;
    private boolean shareMounted;
    private Path lateMount;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("guest-test-");
        vmDir = Files.createDirectories(dir.resolve("vm"));
        share = Files.createDirectories(dir.resolve("share"));
        // the shared directory is a shared mount, as the shim's share root is (so later mounts propagate)
        GuestHarness.run("mount", "--bind", share.toString(), share.toString());
        GuestHarness.run("mount", "--make-shared", share.toString());
        shareMounted = true;
        for (String cid : List.of("echo", "exit3", "eph", "blk", "blk2", "kata")) {
            GuestHarness.rootfs(share.resolve(cid).resolve("rootfs"));
        }
        Path content = Files.createDirectories(dir.resolve("disk-content"));
        Files.writeString(content.resolve("hello.txt"), "from the disk\n");
        image = dir.resolve("disk.img");
        GuestHarness.run("mkfs.ext4", "-q", "-F", "-d", content.toString(), image.toString(), "16M");

        guest = GuestHarness.start(vmDir);
        agent = guest.boot(share);
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (guest != null) {
                guest.close();
            }
        } finally {
            if (lateMount != null) {
                new ProcessBuilder("umount", "-l", lateMount.toString()).start().waitFor();
            }
            if (shareMounted) {
                new ProcessBuilder("umount", "-l", share.toString()).start().waitFor();
            }
            GuestHarness.deleteTree(dir);
        }
    }

    @Test
    @Order(1)
    void healthCheckAndVersion() {
        HealthCheckResponse health = agent.call("grpc.Health", "Check", CheckRequest.getDefaultInstance(),
                HealthCheckResponse.parser(), TIMEOUT);
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        VersionCheckResponse version = agent.call("grpc.Health", "Version", CheckRequest.getDefaultInstance(),
                VersionCheckResponse.parser(), TIMEOUT);
        assertEquals("podvisor-testbed", version.getAgentVersion());
        TtrpcException unsupported = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "AddSwap",
                Empty.getDefaultInstance(), Empty.parser(), TIMEOUT));
        assertEquals(Code.UNIMPLEMENTED, unsupported.code());
    }

    @Test
    @Order(2)
    void createSandboxMountsTheShareAndShm() throws Exception {
        Files.writeString(share.resolve("marker"), "seen through virtio-fs\n");
        agent.call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder()
                .setHostname("pod").setSandboxId("sb1")
                .addStorages(Storage.newBuilder().setDriver("virtio-fs").setSource("kataShared")
                        .setFstype("virtiofs").addOptions("nodev").setMountPoint(SHARED))
                .addStorages(Storage.newBuilder().setDriver("ephemeral").setSource("shm").setFstype("tmpfs")
                        .addAllOptions(List.of("noexec", "nosuid", "nodev", "mode=1777", "size=67108864"))
                        .setMountPoint("/run/kata-containers/sandbox/shm"))
                .build(), Empty.parser(), TIMEOUT);
        TtrpcException unknownTag = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "CreateSandbox",
                CreateSandboxRequest.newBuilder().addStorages(Storage.newBuilder().setDriver("virtio-fs")
                        .setSource("nosuchtag").setFstype("virtiofs").setMountPoint("/run/kata-containers/x"))
                        .build(), Empty.parser(), TIMEOUT));
        assertEquals(Code.INVALID_ARGUMENT, unknownTag.code());
        assertTrue(unknownTag.getMessage().contains("nosuchtag"), unknownTag.getMessage());
    }

    @Test
    @Order(3)
    void echoHelloReadsStdoutAndExitsZero() {
        createAndStart("echo", List.of("echo", "hello"), List.of(), List.of());
        assertEquals("hello\n", readAll("echo", ""));
        assertEquals(0, waitProcess("echo", ""));
        remove("echo");
    }

    @Test
    @Order(4)
    void exitStatusIsReported() {
        createAndStart("exit3", List.of("sh", "-c", "echo oops >&2; exit 3"), List.of(), List.of());
        assertEquals(3, waitProcess("exit3", ""));
        assertEquals("", readAll("exit3", ""));
        assertEquals("oops\n", readAll("exit3", "", "ReadStderr"));
        remove("exit3");
    }

    @Test
    @Order(5)
    void ephemeralLocalBindAndHugetlbStoragesAsTheAgentDoes() {
        String volume = "/run/kata-containers/sandbox/ephemeral/cache";
        Storage storage = Storage.newBuilder().setDriver("ephemeral").setSource("tmpfs").setFstype("tmpfs")
                .addOptions("size=4194304").setMountPoint(volume).build();
        String local = "/run/kata-containers/sandbox/local/scratch";
        Storage localDir = Storage.newBuilder().setDriver("local").setSource("local").setFstype("local")
                .addAllOptions(List.of("mode=0777", "fsgid=1234")).setMountPoint(local).build();
        String watched = "/run/kata-containers/sandbox/watchable/marker";
        Storage watchable = Storage.newBuilder().setDriver("watchable-bind").setSource(SHARED + "marker")
                .setMountPoint(watched).build();
        Storage huge = Storage.newBuilder().setDriver("ephemeral").setSource("nodev").setFstype("hugetlbfs")
                .addAllOptions(List.of("pagesize=2097152", "size=4194304"))
                .setMountPoint("/run/kata-containers/sandbox/ephemeral/huge").build();
        createAndStart("eph", List.of("sleep", "1000"), List.of(storage, localDir, watchable, huge), List.of(
                Mount.newBuilder().setDestination("/vol").setSource(volume).setType("bind").addOptions("rbind").build(),
                Mount.newBuilder().setDestination("/loc").setSource(local).setType("local").addOptions("rbind").build(),
                Mount.newBuilder().setDestination("/marker").setSource(watched).setType("bind").addOptions("rbind")
                        .build(),
                Mount.newBuilder().setDestination("/huge").setSource(huge.getMountPoint()).setType("bind")
                        .addOptions("rbind").build()));
        assertEquals("2777:1234\n", execOutput("eph", "stat", List.of("stat", "-c", "%a:%g", "/loc")),
                "local storage: mode plus setgid, group fsgid");
        assertEquals("seen through virtio-fs\n", execOutput("eph", "cat", List.of("cat", "/marker")));
        assertTrue(execOutput("eph", "mounts", List.of("cat", "/proc/mounts"))
                .matches("(?s).* /huge hugetlbfs [^ ]*pagesize=2M,size=4194304.*"), "hugetlbfs with its options");
        agent.call(AGENT, "PauseContainer", PauseContainerRequest.newBuilder().setContainerId("eph").build(),
                Empty.parser(), TIMEOUT);
        agent.call(AGENT, "ResumeContainer", ResumeContainerRequest.newBuilder().setContainerId("eph").build(),
                Empty.parser(), TIMEOUT);
        long before = dfKilobytes("eph", "df1");
        assertTrue(before > 4096, "created at the default tmpfs size, not 4 MiB: " + before + " KiB");
        agent.call(AGENT, "UpdateEphemeralMounts", UpdateEphemeralMountsRequest.newBuilder()
                .addStorages(storage).build(), Empty.parser(), TIMEOUT);
        assertEquals(4096, dfKilobytes("eph", "df2"));
        VolumeStatsResponse stats = agent.call(AGENT, "GetVolumeStats", VolumeStatsRequest.newBuilder()
                .setVolumeGuestPath(volume).build(), VolumeStatsResponse.parser(), TIMEOUT);
        assertEquals(4L << 20, stats.getUsage(0).getTotal());

        agent.call(AGENT, "ExecProcess", ExecProcessRequest.newBuilder().setContainerId("eph").setExecId("tty")
                .setProcess(process(List.of("sh", "-c", "read line; stty size")).toBuilder().setTerminal(true))
                .build(), Empty.parser(), TIMEOUT);
        agent.call(AGENT, "TtyWinResize", TtyWinResizeRequest.newBuilder().setContainerId("eph").setExecId("tty")
                .setRow(30).setColumn(100).build(), Empty.parser(), TIMEOUT);
        agent.call(AGENT, "WriteStdin", WriteStreamRequest.newBuilder().setContainerId("eph").setExecId("tty")
                .setData(ByteString.copyFromUtf8("go\n")).build(), WriteStreamResponse.parser(), TIMEOUT);
        String tty = readAll("eph", "tty");
        assertTrue(tty.contains("30 100\r\n"), "stty size through the pty: " + tty);
        assertEquals(0, waitProcess("eph", "tty"));
        agent.call(AGENT, "SignalProcess", SignalProcessRequest.newBuilder().setContainerId("eph").setSignal(9)
                .build(), Empty.parser(), TIMEOUT);
        assertEquals(137, waitProcess("eph", ""));
        remove("eph");
    }

    @Test
    @Order(6)
    void blkStorageMountsTheAttachedDiskThroughALoopDevice() throws Exception {
        Storage missing = Storage.newBuilder().setDriver("blk").setSource("03").setFstype("ext4")
                .setMountPoint("/run/kata-containers/sandbox/storage/disk").build();
        TtrpcException notAttached = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "CreateContainer",
                containerRequest("blk", List.of("cat", "/data/hello.txt"), List.of(missing), List.of()),
                Empty.parser(), TIMEOUT));
        assertTrue(notAttached.getMessage().contains("'03'"), notAttached.getMessage());

        guest.send("{\"event\":\"add-disk\",\"id\":\"_disk0\",\"bdf\":\"0000:00:03.0\",\"path\":\"" + image
                + "\",\"readonly\":false}");
        createAndStart("blk", List.of("cat", "/data/hello.txt"), List.of(missing),
                List.of(Mount.newBuilder().setDestination("/data").setSource(missing.getMountPoint())
                        .setType("bind").addOptions("rbind").build()));
        assertEquals(1, GuestHarness.loopsOf(image).size(), "one loop device backs the disk");
        assertEquals("from the disk\n", readAll("blk", ""));
        assertEquals(0, waitProcess("blk", ""));
        remove("blk");
        assertEquals(List.of(), GuestHarness.loopsOf(image), "the loop device is detached with its last mount");

        // unplugged while still mounted (a VMM that does not wait for RemoveContainer): the guest loses the device
        createAndStart("blk2", List.of("cat", "/data/hello.txt"), List.of(missing),
                List.of(Mount.newBuilder().setDestination("/data").setSource(missing.getMountPoint())
                        .setType("bind").addOptions("rbind").build()));
        assertEquals(0, waitProcess("blk2", ""));
        assertEquals(1, GuestHarness.loopsOf(image).size());
        guest.send("{\"event\":\"remove-device\",\"id\":\"_disk0\"}");
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!GuestHarness.loopsOf(image).isEmpty() && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(List.of(), GuestHarness.loopsOf(image), "the removed disk's loop device is detached at once");
        remove("blk2");
    }

    @Test
    @Order(7)
    void aHostMountMadeAfterBootShowsThroughVirtioFs() throws Exception {
        // like the shim binding a container rootfs into the shared directory after the VM booted
        Path rootfs = Files.createDirectories(share.resolve("late").resolve("rootfs"));
        GuestHarness.run("mount", "-t", "tmpfs", "-o", "size=16m", "late-rootfs", rootfs.toString());
        lateMount = rootfs;
        GuestHarness.rootfs(rootfs);
        createAndStart("late", List.of("echo", "late"), List.of(), List.of());
        assertEquals("late\n", readAll("late", ""));
        assertEquals(0, waitProcess("late", ""));
        remove("late");
    }

    @Test
    @Order(8)
    void theMainProcessAnswersToTheContainerIdAsExecIdAsWithTheKataAgent() {
        // Kata's Go shim names the main process with exec_id = container id in every call (kata-agent:
        // the init process is registered under the container id; "" finds it too)
        agent.call(AGENT, "CreateContainer", containerRequest("kata", List.of("sh", "-c", "cat; echo done; exec sleep 1000"),
                List.of(), List.of()).toBuilder().setExecId("kata").build(), Empty.parser(), TIMEOUT);
        agent.call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId("kata").build(),
                Empty.parser(), TIMEOUT);
        assertEquals(2, agent.call(AGENT, "WriteStdin", WriteStreamRequest.newBuilder().setContainerId("kata")
                .setExecId("kata").setData(ByteString.copyFromUtf8("x\n")).build(), WriteStreamResponse.parser(),
                TIMEOUT).getLen());
        // empty data closes stdin (kata-agent do_write_stream), so cat ends
        assertEquals(0, agent.call(AGENT, "WriteStdin", WriteStreamRequest.newBuilder().setContainerId("kata")
                .setExecId("kata").build(), WriteStreamResponse.parser(), TIMEOUT).getLen());
        TtrpcException duplicate = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "ExecProcess",
                ExecProcessRequest.newBuilder().setContainerId("kata").setExecId("kata")
                        .setProcess(process(List.of("true"))).build(), Empty.parser(), TIMEOUT));
        assertEquals(Code.ALREADY_EXISTS, duplicate.code(), duplicate.getMessage());
        TtrpcException unknown = assertThrows(TtrpcException.class, () -> agent.call(AGENT, "WaitProcess",
                WaitProcessRequest.newBuilder().setContainerId("kata").setExecId("nosuchexec").build(),
                WaitProcessResponse.parser(), TIMEOUT));
        assertEquals(Code.NOT_FOUND, unknown.code(), unknown.getMessage());
        agent.call(AGENT, "SignalProcess", SignalProcessRequest.newBuilder().setContainerId("kata").setExecId("kata")
                .setSignal(9).build(), Empty.parser(), TIMEOUT);
        assertEquals(137, waitProcess("kata", "kata"));
        assertEquals(137, waitProcess("kata", ""), "both names reach the same process");
        assertEquals("x\ndone\n", readAll("kata", "kata"));
        assertEquals("", readAll("kata", ""), "the stream stays at its end, whichever name asks");
        remove("kata");
    }

    @Test
    @Order(9)
    void shutdownLeavesNothingBehind() throws Exception {
        agent.call(AGENT, "DestroySandbox", DestroySandboxRequest.getDefaultInstance(), Empty.parser(), TIMEOUT);
        guest.send("{\"event\":\"shutdown\"}");
        assertEquals(0, guest.awaitExit(), guest.output());
        assertEquals(List.of(), GuestHarness.loopsOf(image));
        assertFalse(Files.exists(vmDir.resolve("runc")), "runc state removed");
        assertFalse(Files.exists(vmDir.resolve("guest-vsock").resolve("1024.sock")), "agent socket removed");
        assertFalse(Files.exists(vmDir.resolve("guest-root")), "guest root removed");
        for (String cgroup : List.of("memory", "pids", "cpu", "freezer")) {
            Path path = Path.of("/sys/fs/cgroup", cgroup, "podvisor-testbed", vmDir.getFileName().toString());
            assertFalse(Files.exists(path), "cgroup removed: " + path);
        }
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        assertFalse(mounts.contains(vmDir.toString()), "no guest mount reached the host");
        String log = Files.readString(vmDir.resolve("testbed.jsonl"));
        assertTrue(log.contains("\"component\":\"guest\""), log);
        assertTrue(log.contains("\"method\":\"CreateContainer\""), log);
        assertTrue(log.contains("\"storages\":[{\"driver\":\"virtio-fs\",\"source\":\"kataShared\""), log);
    }

    // ---- helpers ----

    private void createAndStart(String cid, List<String> args, List<Storage> storages, List<Mount> mounts) {
        agent.call(AGENT, "CreateContainer", containerRequest(cid, args, storages, mounts), Empty.parser(), TIMEOUT);
        agent.call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId(cid).build(),
                Empty.parser(), TIMEOUT);
    }

    private static CreateContainerRequest containerRequest(String cid, List<String> args, List<Storage> storages,
                                                           List<Mount> mounts) {
        Spec.Builder spec = Spec.newBuilder().setVersion("1.0.2")
                .setProcess(process(args))
                .setRoot(Root.newBuilder().setPath(SHARED + cid + "/rootfs"))
                .setHostname(cid)
                .addMounts(Mount.newBuilder().setDestination("/proc").setSource("proc").setType("proc"))
                .addMounts(Mount.newBuilder().setDestination("/dev").setSource("tmpfs").setType("tmpfs")
                        .addAllOptions(List.of("nosuid", "strictatime", "mode=755", "size=65536k")))
                .addMounts(Mount.newBuilder().setDestination("/dev/pts").setSource("devpts").setType("devpts")
                        .addAllOptions(List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620")))
                .addAllMounts(mounts)
                .setLinux(dev.podvisor.protocols.agent.Linux.newBuilder()
                        .setCgroupsPath("/kubepods/pod1/" + cid)
                        .addAllNamespaces(List.of("pid", "ipc", "uts", "mount", "network").stream()
                                .map(t -> LinuxNamespace.newBuilder().setType(t).build()).toList()));
        return CreateContainerRequest.newBuilder().setContainerId(cid).addAllStorages(storages).setOCI(spec).build();
    }

    private static dev.podvisor.protocols.agent.Process process(List<String> args) {
        return dev.podvisor.protocols.agent.Process.newBuilder().addAllArgs(args)
                .addEnv("PATH=/bin").setCwd("/").build();
    }

    private String readAll(String cid, String execId) {
        return readAll(cid, execId, "ReadStdout");
    }

    /** Reads a stream to its end: the agent's OK answer with no data (kata-agent 3.27.0 and later). */
    private String readAll(String cid, String execId, String method) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            ReadStreamResponse chunk = agent.call(AGENT, method, ReadStreamRequest.newBuilder()
                    .setContainerId(cid).setExecId(execId).setLen(1024).build(), ReadStreamResponse.parser(),
                    TIMEOUT);
            if (chunk.getData().isEmpty()) {
                return out.toString(StandardCharsets.UTF_8);
            }
            out.writeBytes(chunk.getData().toByteArray());
        }
    }

    private int waitProcess(String cid, String execId) {
        return agent.call(AGENT, "WaitProcess", WaitProcessRequest.newBuilder().setContainerId(cid)
                .setExecId(execId).build(), WaitProcessResponse.parser(), TIMEOUT).getStatus();
    }

    private void remove(String cid) {
        agent.call(AGENT, "RemoveContainer", RemoveContainerRequest.newBuilder().setContainerId(cid).build(),
                Empty.parser(), TIMEOUT);
    }

    private String execOutput(String cid, String execId, List<String> args) {
        agent.call(AGENT, "ExecProcess", ExecProcessRequest.newBuilder().setContainerId(cid).setExecId(execId)
                .setProcess(process(args)).build(), Empty.parser(), TIMEOUT);
        String output = readAll(cid, execId);
        assertEquals(0, waitProcess(cid, execId), output);
        return output;
    }

    /** Total size in KiB of /vol as {@code df -k} sees it inside container {@code cid} (an exec). */
    private long dfKilobytes(String cid, String execId) {
        agent.call(AGENT, "ExecProcess", ExecProcessRequest.newBuilder().setContainerId(cid).setExecId(execId)
                .setProcess(process(List.of("df", "-k", "/vol"))).build(), Empty.parser(), TIMEOUT);
        String output = readAll(cid, execId);
        assertEquals(0, waitProcess(cid, execId), output);
        String[] lines = output.strip().split("\n");
        return Long.parseLong(lines[lines.length - 1].trim().split("\\s+")[1]);
    }





}
