package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.storage.host.FsStat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Linux} system calls. Needs root (mounts a tmpfs); CI runs as root. */
class LinuxTest {

    @TempDir
    Path dir;

    private final List<Path> mounted = new ArrayList<>();

    @AfterEach
    void unmountAll() {
        for (Path p : mounted.reversed()) {
            HostMounts.unmount(p);
        }
    }

    @Test
    void statfsOfTmpfsReportsItsSize() throws Exception {
        Path target = Files.createDirectory(dir.resolve("tmpfs"));
        Linux.mount("tmpfs", target.toString(), "tmpfs", Linux.MS_NOSUID | Linux.MS_NODEV, "size=8m,mode=0755");
        mounted.add(target);
        FsStat st = Linux.statfs(target.toString());
        assertEquals(FsStat.TMPFS_MAGIC, st.type());
        assertEquals(8L * 1024 * 1024, st.totalBytes());
        assertEquals(st.blocks(), st.blocksFree());
    }

    @Test
    void errorsNameTheCallThePathsAndTheErrno() {
        Path missing = dir.resolve("missing");
        LinuxException e = assertThrows(LinuxException.class,
                () -> Linux.mount("tmpfs", missing.toString(), "tmpfs", 0, null));
        assertEquals("mount(tmpfs → " + missing + ", type tmpfs): ENOENT (No such file or directory)", e.getMessage());
        assertEquals("mount", e.call());
        assertEquals(Linux.ENOENT, e.errno());
        assertEquals("ENOENT", e.errnoName());

        LinuxException statfs = assertThrows(LinuxException.class, () -> Linux.statfs(missing.toString()));
        assertEquals("statfs(" + missing + "): ENOENT (No such file or directory)", statfs.getMessage());

        LinuxException overlay = assertThrows(LinuxException.class,
                () -> Linux.mount("/a", dir.toString(), "overlay", 0, "lowerdir=" + missing));
        assertTrue(overlay.getMessage().startsWith("mount(/a → " + dir + ", type overlay): "), overlay.getMessage());

        LinuxException notMounted = assertThrows(LinuxException.class, () -> Linux.umount2(dir.toString(), 0));
        assertEquals("umount2(" + dir + "): EINVAL (Invalid argument)", notMounted.getMessage());
    }

    @Test
    void openReadWriteDupAndClose() throws Exception {
        Path file = dir.resolve("f");
        int fd = Linux.open(file.toString(), Linux.O_RDWR | Linux.O_CREAT | Linux.O_CLOEXEC, 0640);
        try {
            byte[] data = "hello".getBytes();
            Linux.writeFully(fd, data, 0, data.length);
        } finally {
            Linux.close(fd);
        }
        assertEquals("hello", Files.readString(file));
        int rd = Linux.open(file.toString(), Linux.O_RDONLY);
        int copy = Linux.dup(rd);
        try {
            byte[] buf = new byte[16];
            assertEquals(5, Linux.read(copy, buf, 2, 10));
            assertEquals("hello", new String(buf, 2, 5));
            assertEquals(-1, Linux.read(rd, buf, 0, 16), "both fds share the offset, now at EOF");
        } finally {
            Linux.close(copy);
            Linux.close(rd);
        }
        LinuxException closed = assertThrows(LinuxException.class, () -> Linux.close(rd));
        assertEquals(Linux.EBADF, closed.errno());
    }

    @Test
    void blockDeviceCallsRejectNonDevices() throws Exception {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        LinuxException e = assertThrows(LinuxException.class, () -> Linux.blockDeviceReadOnly(file.toString()));
        assertTrue(e.getMessage().startsWith("ioctl(BLKROGET)(" + file + "): ENOTTY"), e.getMessage());
    }

    @Test
    void processIdentity() {
        assertEquals(ProcessHandle.current().pid(), Linux.getpid());
        assertEquals(System.getProperty("user.name").equals("root"), Linux.getuid() == 0);
        LinuxException e = assertThrows(LinuxException.class, () -> Linux.kill(Integer.MAX_VALUE, 0));
        assertEquals(Linux.ESRCH, e.errno());
    }

    @Test
    void decodesWaitStatuses() {
        WaitStatus exited = WaitStatus.decode(10, 3 << 8);
        assertEquals(new WaitStatus(10, true, 3, false, 0), exited);
        assertEquals(3, Linux.exitStatus(exited));
        WaitStatus killed = WaitStatus.decode(11, Linux.SIGKILL);
        assertEquals(new WaitStatus(11, false, 0, true, 9), killed);
        assertEquals(137, Linux.exitStatus(killed));
        WaitStatus stopped = WaitStatus.decode(12, (Linux.SIGSTOP << 8) | 0x7f);
        assertFalse(stopped.exited() || stopped.signaled());
        assertThrows(IllegalArgumentException.class, () -> Linux.exitStatus(stopped));
        assertTrue(WaitStatus.NONE.none());
    }

    @Test
    void waitpidReapsOrphansAfterSetChildSubreaper() throws Exception {
        Linux.setChildSubreaper();
        // the shell starts two grandchildren, blocked on FIFOs, and exits; they are re-parented to this JVM
        Path go = dir.resolve("go");
        Path never = dir.resolve("never");
        Process shell = new ProcessBuilder("sh", "-c",
                "mkfifo \"$1\" \"$2\"; (read line <\"$1\"; exit 7) >/dev/null 2>&1 </dev/null & echo $!;"
                        + " (read line <\"$2\"; exit 0) >/dev/null 2>&1 </dev/null & echo $!",
                "sh", go.toString(), never.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        List<String> pids = shell.inputReader().lines().toList();
        assertEquals(0, shell.waitFor());
        int first = Integer.parseInt(pids.get(0));
        int second = Integer.parseInt(pids.get(1));
        try {
            assertEquals(WaitStatus.NONE, Linux.waitpid(first, Linux.WNOHANG));
            Linux.kill(second, Linux.SIGKILL);
            WaitStatus killed = Linux.waitpid(second, 0);
            assertEquals(new WaitStatus(second, false, 0, true, Linux.SIGKILL), killed);
            assertEquals(137, Linux.exitStatus(killed));
            Files.writeString(go, "go\n"); // opening blocks until the child has the FIFO open
            WaitStatus exited = Linux.waitpid(first, 0);
            assertEquals(new WaitStatus(first, true, 7, false, 0), exited);
            assertEquals(7, Linux.exitStatus(exited));
            LinuxException gone = assertThrows(LinuxException.class, () -> Linux.waitpid(first, Linux.WNOHANG));
            assertEquals(Linux.ECHILD, gone.errno());
        } finally {
            for (int pid : new int[] {first, second}) {
                try {
                    Linux.kill(pid, Linux.SIGKILL);
                    Linux.waitpid(pid, 0);
                } catch (LinuxException alreadyReaped) {
                    // reaped by the test
                }
            }
        }
    }
}
