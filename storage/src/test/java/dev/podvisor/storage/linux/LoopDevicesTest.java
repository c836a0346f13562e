package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.storage.host.FileStat;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LoopDevices}, and {@link LiveHostFacts} on a loop-device block node. Needs root and
 * {@code /dev/loop-control}; CI runs as root. Every device a test attaches is detached in {@link #cleanUp}.
 */
class LoopDevicesTest {

    private static final long SIZE = 4L * 1024 * 1024;

    @TempDir
    Path dir;

    private final List<String> attached = new ArrayList<>();
    private final List<Path> mounted = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Path p : mounted) {
            HostMounts.unmount(p);
        }
        for (String device : attached) {
            LoopDevices.detach(device);
        }
    }

    private Path image(String name) throws Exception {
        Path file = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(SIZE);
        }
        return file;
    }

    private String attach(Path file, boolean readOnly) {
        String device = LoopDevices.attach(file, readOnly);
        attached.add(device);
        return device;
    }

    private static String sysfs(String device, String attribute) throws Exception {
        String name = Path.of(device).getFileName().toString();
        return Files.readString(Path.of("/sys/block", name, "loop", attribute)).strip();
    }

    @Test
    void readOnlyAttachIsReportedByBlkroget() throws Exception {
        Path file = image("ro.img");
        String ro = attach(file, true);
        assertTrue(ro.matches("/dev/loop\\d+"), ro);
        assertTrue(Linux.blockDeviceReadOnly(ro));
        assertEquals(SIZE, Linux.blockDeviceSizeBytes(ro));
        assertEquals(file.toString(), sysfs(ro, "backing_file"));
        assertEquals("0", sysfs(ro, "autoclear"), "attach() devices stay until detach()");
    }

    @Test
    void readWriteAttachIsWritable() throws Exception {
        String rw = attach(image("rw.img"), false);
        assertFalse(Linux.blockDeviceReadOnly(rw));
        assertEquals(SIZE, Linux.blockDeviceSizeBytes(rw));
        int fd = Linux.open(rw, Linux.O_WRONLY | Linux.O_CLOEXEC);
        try {
            byte[] data = "through the loop".getBytes();
            Linux.writeFully(fd, data, 0, data.length);
        } finally {
            Linux.close(fd);
        }
    }

    @Test
    void twoAttachesGetTwoDevices() throws Exception {
        String a = attach(image("a.img"), false);
        String b = attach(image("b.img"), true);
        assertFalse(a.equals(b));
    }

    @Test
    void detachUnbindsAndIsIdempotent() throws Exception {
        Path file = image("d.img");
        String device = LoopDevices.attach(file, false);
        try {
            assertEquals(file.toString(), sysfs(device, "backing_file"));
        } finally {
            LoopDevices.detach(device);
        }
        assertFalse(Files.exists(Path.of("/sys/block", Path.of(device).getFileName().toString(), "loop")),
                "no loop attributes once unbound");
        LoopDevices.detach(device); // ENXIO: already unbound, no error
    }

    @Test
    void openSetsAutoclearAndKeepsTheDeviceWhileHeld() throws Exception {
        Path file = image("auto.img");
        try (LoopDevices.LoopDevice held = LoopDevices.open(file, true)) {
            assertEquals("1", sysfs(held.device(), "autoclear"));
            assertEquals(file.toString(), sysfs(held.device(), "backing_file"));
            assertTrue(Linux.blockDeviceReadOnly(held.device()));
        } // last opener gone: the kernel detaches it by itself
    }

    @Test
    void attachOfMissingFileNamesIt() {
        Path missing = dir.resolve("missing.img");
        LinuxException e = assertThrows(LinuxException.class, () -> LoopDevices.attach(missing, true));
        assertEquals("open(" + missing + "): ENOENT (No such file or directory)", e.getMessage());
    }

    @Test
    void ext4OnLoopDeviceMountsAndHoldsData() throws Exception {
        Path file = image("ext4.img");
        Process mkfs = new ProcessBuilder("mkfs.ext4", "-q", "-F", file.toString())
                .redirectErrorStream(true).start();
        String output = new String(mkfs.getInputStream().readAllBytes());
        assertEquals(0, mkfs.waitFor(), output);
        String device = attach(file, false);
        Path target = Files.createDirectory(dir.resolve("mnt"));
        HostMounts.mount("ext4", device, target, List.of("nodev"));
        mounted.add(target);
        Files.writeString(target.resolve("hello"), "on ext4");
        LiveHostFacts facts = new LiveHostFacts(dir.resolve("direct-volumes"));
        assertEquals("ext4", facts.mountAt(target).orElseThrow().fsType());
        assertEquals(device, facts.mountAt(target).orElseThrow().source());
        assertEquals("on ext4", Files.readString(target.resolve("hello")));
    }

    @Test
    void liveHostFactsSeesTheBlockNode() throws Exception {
        String device = attach(image("facts.img"), true);
        LiveHostFacts facts = new LiveHostFacts(dir.resolve("direct-volumes"));
        FileStat st = facts.stat(Path.of(device)).orElseThrow();
        assertEquals(FileStat.FileType.BLOCK_DEVICE, st.type());
        assertTrue(st.isBlockDevice());
        assertEquals(7, st.rdevMajor(), "loop devices have major 7");
        assertEquals(Integer.parseInt(device.substring("/dev/loop".length())), st.rdevMinor());
        assertTrue(facts.blockDeviceReadOnly(Path.of(device)));
        String sysDev = Files.readString(Path.of("/sys/block", Path.of(device).getFileName().toString(), "dev")).strip();
        assertEquals(sysDev, st.rdevMajor() + ":" + st.rdevMinor());
    }
}
