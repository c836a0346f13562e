package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The guest's ways to end without the agent's help — SIGTERM and the VMM's control connection closing —
 * with a running container whose storage is a freshly formatted ({@code create_filesystem}) loop-backed
 * disk: the exit status is 0 and no container process, loop device, cgroup or socket is left behind.
 *
 * <p>Needs root, runc, mkfs.ext4 and /bin/busybox (busybox-static), as {@link GuestMainTest}.
 */
class GuestShutdownTest {

    private static final String AGENT = "grpc.AgentService";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SHARED = "/run/kata-containers/shared/containers/";

    private Path dir;
    private Path image;
    private GuestHarness guest;
    private String sleepArg;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory("guest-shutdown-");
        Path share = Files.createDirectories(dir.resolve("share"));
        GuestHarness.rootfs(share.resolve("c1").resolve("rootfs"));
        image = dir.resolve("blank.img");
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(16L << 20);
        }
        guest = GuestHarness.start(dir.resolve("vm"));
        TtrpcClient agent = guest.boot(share);
        guest.send("{\"event\":\"add-disk\",\"id\":\"_disk0\",\"bdf\":\"0000:00:05.0\",\"path\":\"" + image
                + "\",\"readonly\":false}");
        agent.call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb")
                .addStorages(Storage.newBuilder().setDriver("virtio-fs").setSource("kataShared")
                        .setFstype("virtiofs").setMountPoint(SHARED)).build(), Empty.parser(), TIMEOUT);
        sleepArg = Integer.toString(100000 + ThreadLocalRandom.current().nextInt(800000));
        Storage disk = Storage.newBuilder().setDriver("blk").setSource("05").setFstype("ext4")
                .addDriverOptions("create_filesystem").setMountPoint("/run/kata-containers/sandbox/storage/b")
                .build();
        Spec spec = Spec.newBuilder().setVersion("1.0.2")
                .setProcess(dev.podvisor.protocols.agent.Process.newBuilder().addAllArgs(List.of("sleep", sleepArg))
                        .addEnv("PATH=/bin").setCwd("/"))
                .setRoot(Root.newBuilder().setPath(SHARED + "c1/rootfs"))
                .addMounts(Mount.newBuilder().setDestination("/proc").setSource("proc").setType("proc"))
                .addMounts(Mount.newBuilder().setDestination("/data").setSource(disk.getMountPoint())
                        .setType("bind").addOptions("rbind"))
                .setLinux(dev.podvisor.protocols.agent.Linux.newBuilder()
                        .addAllNamespaces(List.of("pid", "mount", "network").stream()
                                .map(t -> LinuxNamespace.newBuilder().setType(t).build()).toList()))
                .build();
        agent.call(AGENT, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId("c1")
                .addStorages(disk).setOCI(spec).build(), Empty.parser(), TIMEOUT);
        agent.call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId("c1").build(),
                Empty.parser(), TIMEOUT);
        assertEquals(1, GuestHarness.loopsOf(image).size(), "the disk is loop-attached");
        assertEquals(1, processesWithArg(sleepArg).size(), "the container runs");
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (guest != null) {
                guest.close();
            }
        } finally {
            GuestHarness.deleteTree(dir);
        }
    }

    @Test
    void sigtermCleansUpAndExitsZero() throws Exception {
        guest.process.destroy(); // SIGTERM
        assertEquals(0, guest.awaitExit(), guest.output());
        assertNothingLeft();
    }

    @Test
    void closingTheControlConnectionCleansUpAndExitsZero() throws Exception {
        guest.closeControl();
        assertEquals(0, guest.awaitExit(), guest.output());
        assertNothingLeft();
    }

    private void assertNothingLeft() throws Exception {
        assertEquals(List.of(), GuestHarness.loopsOf(image), "loop device detached");
        assertEquals(List.of(), processesWithArg(sleepArg), "container process killed");
        assertFalse(Files.exists(guest.vmDir.resolve("runc")), "runc state removed");
        assertFalse(Files.exists(guest.vmDir.resolve("guest-control.sock")), "control socket removed");
        assertFalse(Files.exists(guest.vmDir.resolve("guest-vsock").resolve("1024.sock")), "agent socket removed");
        assertFalse(Files.exists(Path.of("/sys/fs/cgroup/pids/podvisor-testbed", "vm")), "cgroup removed");
        assertFalse(Files.readString(Path.of("/proc/self/mountinfo")).contains(dir.toString()),
                "nothing of the guest is mounted on the host");
    }

    /** Pids whose command line is {@code sleep <arg>}. */
    private static List<Long> processesWithArg(String arg) {
        List<Long> pids = new ArrayList<>();
        byte[] want = ("sleep\0" + arg + "\0").getBytes(StandardCharsets.UTF_8);
        ProcessHandle.allProcesses().forEach(p -> {
            try {
                byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(p.pid()), "cmdline"));
                if (java.util.Arrays.equals(cmdline, want)) {
                    pids.add(p.pid());
                }
            } catch (IOException ignored) {
                // gone
            }
        });
        return pids;
    }
}
