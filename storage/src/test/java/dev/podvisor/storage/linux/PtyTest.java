package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@link Linux#openPty()} and friends. Runs unprivileged too. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PtyTest {

    private int master = -1;
    private int slave = -1;

    @AfterEach
    void closeAll() {
        Linux.closeQuietly(slave);
        Linux.closeQuietly(master);
    }

    /** Reads from {@code fd} until {@code expected} has arrived (bytes may come in several reads). */
    private static String readUntil(int fd, String expected) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        while (!got.toString(StandardCharsets.UTF_8).contains(expected)) {
            int n = Linux.read(fd, buf, 0, buf.length);
            if (n < 0) {
                break;
            }
            got.write(buf, 0, n);
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    private static void write(int fd, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Linux.writeFully(fd, b, 0, b.length);
    }

    @Test
    void roundTripThroughTheLineDiscipline() {
        Pty pty = Linux.openPty();
        master = pty.masterFd();
        assertTrue(pty.slavePath().startsWith("/dev/pts/"), pty.slavePath());
        assertTrue(Files.exists(Path.of(pty.slavePath())));
        slave = Linux.open(pty.slavePath(), Linux.O_RDWR | Linux.O_NOCTTY | Linux.O_CLOEXEC);

        write(slave, "from the container\n");
        assertEquals("from the container\r\n", readUntil(master, "\r\n"), "onlcr turns \\n into \\r\\n");

        write(master, "typed input\n");
        assertEquals("typed input\n", readUntil(slave, "\n"));

        Linux.close(slave);
        slave = -1;
        // the master sees the echo of the input, then EOF (EIO) once no slave fd is left
        String rest = readUntil(master, "never arrives");
        assertEquals("typed input\r\n", rest);
        byte[] buf = new byte[16];
        assertEquals(-1, Linux.read(master, buf, 0, buf.length));
    }

    @Test
    void windowSizeIsVisibleOnTheSlave() throws Exception {
        Pty pty = Linux.openPty();
        master = pty.masterFd();
        Linux.setWindowSize(master, 40, 132);
        assertEquals(new WindowSize(40, 132), Linux.getWindowSize(master));
        slave = Linux.open(pty.slavePath(), Linux.O_RDWR | Linux.O_NOCTTY | Linux.O_CLOEXEC);
        assertEquals(new WindowSize(40, 132), Linux.getWindowSize(slave));

        Process stty = new ProcessBuilder("stty", "-F", pty.slavePath(), "size").redirectErrorStream(true).start();
        String out = new String(stty.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, stty.waitFor(), out);
        assertEquals("40 132", out);

        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> Linux.setWindowSize(master, -1, 80));
        assertTrue(bad.getMessage().contains("rows -1"), bad.getMessage());
        LinuxException notTty = assertThrows(LinuxException.class, () -> Linux.setWindowSize(999_999, 1, 1));
        assertEquals(Linux.EBADF, notTty.errno());
    }
}
