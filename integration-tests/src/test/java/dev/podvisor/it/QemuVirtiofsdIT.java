package dev.podvisor.it;

import dev.podvisor.hypervisor.HypervisorSettings;
import dev.podvisor.hypervisor.virtiofs.Virtiofsd;
import dev.podvisor.hypervisor.virtiofs.VirtiofsdStyle;
import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Installed;
import dev.podvisor.it.support.Leftovers;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.sandbox.VirtualMachine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's real virtiofsd, QEMU's C one ({@code /usr/lib/qemu/virtiofsd} from {@code qemu-system-common}), run
 * with the command line the shim builds for a C-style device ({@code virtio_fs_daemon_style = "c"}): it accepts
 * it and creates its vhost-user socket; and a bad argument fails the pod start with the daemon's own error.
 * Needs root (the daemon sandboxes itself in new namespaces), containerd and runc (CI has them).
 */
class QemuVirtiofsdIT {

    static final Path QEMU_VIRTIOFSD = Path.of("/usr/lib/qemu/virtiofsd");

    @TempDir
    Path dir;
    Leftovers.Snapshot before;
    final List<String> markers = new ArrayList<>();

    @BeforeEach
    void snapshot() {
        before = Leftovers.take();
        markers.add(dir.toString());
    }

    @AfterEach
    void nothingLeftBehind() {
        Leftovers.awaitExitOfNew(before, markers, Duration.ofSeconds(15));
        Leftovers.assertNothingNewSince(before, markers);
    }

    @Test
    void theRealCDaemonAcceptsTheShimsCommandLineAndCreatesItsSocket() throws Exception {
        Path vmDir = Files.createDirectories(dir.resolve("vm"));
        Path shared = Files.createDirectories(dir.resolve("models/ro"));
        HypervisorSettings settings = new HypervisorSettings(Path.of("/usr/bin/cloud-hypervisor"), Path.of("/k"),
                null, Path.of("/img"), "", 1, 2048, QEMU_VIRTIOFSD, "metadata", null, 1024, false, true,
                VirtiofsdStyle.QEMU_C);
        var device = new VirtualMachine.ExtraFsDevice("models",
                List.of("--cache=always", "--thread-pool-size=2", "-o", "announce_submounts,xattr"), shared);
        Virtiofsd.Options options = VirtualMachine.extraDeviceOptions(settings, vmDir, device);
        Path socket = vmDir.resolve("virtiofsd-models.sock");
        assertEquals(List.of(QEMU_VIRTIOFSD.toString(), "--socket-path=" + socket, "-o", "source=" + shared,
                "-o", "cache=always", "--thread-pool-size=2", "-o", "announce_submounts,xattr"), options.argv());

        Virtiofsd virtiofsd = Virtiofsd.start(options);
        try {
            assertTrue(virtiofsd.isAlive(), "the daemon runs in the foreground");
            PosixFileAttributes socketFile = Files.readAttributes(socket, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            assertTrue(socketFile.isOther(), "the daemon made a unix socket at " + socket);
            assertEquals(List.of("--socket-path=" + socket, "-o", "source=" + shared, "-o", "cache=always"),
                    ProcessHandle.of(virtiofsd.pid()).orElseThrow().info().arguments().map(a -> List.of(a).subList(0, 5))
                            .orElseThrow(), "the process runs the shim's arguments");
            // it serves one VMM: a client that connects and leaves ends it
            try (SocketChannel vmm = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                vmm.connect(UnixDomainSocketAddress.of(socket));
            }
            virtiofsd.handle().onExit().get(10, TimeUnit.SECONDS);
            assertFalse(virtiofsd.isAlive());
            assertTrue(Files.readString(vmDir.resolve("virtiofsd-models.log")).contains("Waiting for vhost-user socket connection"));
        } finally {
            virtiofsd.stop(Duration.ofSeconds(2));
        }
        assertFalse(Files.exists(socket), "stop removes the socket the C daemon leaves behind");
    }

    @Test
    void aBadArgumentFailsThePodStartWithTheDaemonsError() {
        // Kata's cache name "never" is the Rust daemon's; the C daemon only knows none, auto and always
        Path config = TestbedConfig.write(dir.resolve("config"), """
                virtio_fs_daemon = "/usr/lib/qemu/virtiofsd"
                virtio_fs_daemon_style = "c"
                extra_virtiofs = ["db:-o cache=never"]
                """, 30);
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("cbad");
            markers.add(id);
            CommandResult result = containerd.ctr(Duration.ofSeconds(120), "run", "--rm", "--runtime", StorageIT.RUNTIME,
                    BusyboxImage.NAME, id, "echo", "never");
            assertFalse(result.ok(), result.toString());
            assertFalse(result.stdout().contains("never"), result.toString());
            assertTrue(result.stderr().contains("virtiofsd " + QEMU_VIRTIOFSD + " exited with status 1"), result.stderr());
            assertTrue(result.stderr().contains("fuse: unknown option(s): `-o cache=never'"), result.stderr());
            containerd.ctr("container", "rm", id);
        }
    }

    @Test
    void aCStylePodRunsOnTheTestbedWithEachDevicesCommandLine() throws Exception {
        // the testbed's virtiofsd stand-in, taking the C daemon's command line as /usr/lib/qemu/virtiofsd does
        Path standIn = Installed.get().testbedBin().resolve("qemu-virtiofsd");
        Path configDir = dir.resolve("config");
        Path config = TestbedConfig.write(configDir, """
                virtio_fs_daemon = "%s"
                virtio_fs_daemon_style = "c"
                virtio_fs_cache = "metadata"
                extra_virtiofs = ["db:--cache=never -o no_posix_lock"]
                """.formatted(standIn), 30);
        Path db = Files.createDirectories(dir.resolve("db"));
        Files.writeString(db.resolve("file"), "rows\n");
        try (PrivateContainerd containerd = PrivateContainerd.start(config)) {
            BusyboxImage.importInto(containerd, "default");
            String id = containerd.uniqueId("cpod");
            markers.add(id);
            containerd.ctr(Duration.ofSeconds(120), "run", "-d", "--runtime", StorageIT.RUNTIME,
                    "--annotation", "io.katacontainers.config.runtime.special_volumes=db:/db",
                    "--mount", "type=bind,src=" + db + ",dst=/db,options=rbind:rw",
                    BusyboxImage.NAME, id, "sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.2; done").requireSuccess();
            try {
                Path vmDir = configDir.resolve("state").resolve(id);
                Path share = configDir.resolve("shared").resolve(id);
                java.util.Map<String, String> argv = new java.util.HashMap<>();
                ProcessHandle.allProcesses().map(p -> p.info().commandLine().orElse(""))
                        .filter(c -> c.contains("VirtiofsdMain") && c.contains(vmDir.toString()))
                        .forEach(c -> argv.put(c.replaceFirst(".*virtiofsd-([^ ]+)\\.sock.*", "$1"), c.replaceFirst(".*VirtiofsdMain ", "")));
                assertEquals("--socket-path=" + vmDir.resolve("virtiofsd-kataShared.sock") + " -o source=" + share.resolve("ro")
                        + " -o cache=none -o timeout=86400 --thread-pool-size=1 -o announce_submounts", argv.get("kataShared"),
                        "Kata's metadata as the C daemon's cache=none with long timeouts, and Kata 2.x's C defaults: " + argv);
                assertEquals("--socket-path=" + vmDir.resolve("virtiofsd-db.sock") + " -o source=" + share.resolve("db/ro")
                        + " -o cache=none -o no_posix_lock", argv.get("db"), argv.toString());
                CommandResult read = containerd.ctr(Duration.ofSeconds(60), "task", "exec", "--exec-id", "r", id, "cat", "/db/file");
                assertEquals("rows\n", read.stdout(), read.toString());
            } finally {
                containerd.ctr("task", "kill", "-s", "SIGTERM", id);
                containerd.ctr(Duration.ofSeconds(60), "task", "delete", "-f", id);
                containerd.ctr("container", "rm", id);
            }
        }
    }
}
