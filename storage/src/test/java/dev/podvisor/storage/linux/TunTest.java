package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link Tun}: Kata's tcfilter tap made in a private namespace (root). */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TunTest {

    private static final int KATA_FLAGS = Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR;

    @TempDir
    Path dir;

    @RegisterExtension
    final ScratchNetns ns = new ScratchNetns();

    @Test
    void aPersistentVnetTapIsMadeInTheCallersNamespace() throws Exception {
        String name = "pvt" + Long.toHexString(System.nanoTime() & 0xffffff);
        int fd = Netns.call(ns.path, () -> Tun.open(name, KATA_FLAGS));
        try {
            Tun.setPersist(fd, true);
            assertEquals(name, Tun.name(fd));
            assertEquals(10, Tun.vnetHdrSize(fd), "the kernel default, before anyone sets it");
            Tun.setVnetHdrSize(fd, 12);
            assertEquals(12, Tun.vnetHdrSize(fd));
            LinuxException small = assertThrows(LinuxException.class, () -> Tun.setVnetHdrSize(fd, 4));
            assertEquals(Linux.EINVAL, small.errno());
            assertEquals("ioctl(TUNSETVNETHDRSZ)", small.call());
        } finally {
            Linux.close(fd);
        }
        assertFalse(Files.exists(Path.of("/sys/class/net", name)), "not in the host namespace");
        String link = ns.ip("-d", "link", "show", name);
        assertTrue(link.contains("tun type tap pi off vnet_hdr on persist on"), link);
    }

    @Test
    void aTapThatIsNotPersistentGoesWithItsLastFd() throws Exception {
        int fd = Netns.call(ns.path, () -> Tun.open("tap9_kata", KATA_FLAGS));
        assertTrue(ns.ip("link", "show").contains("tap9_kata"));
        Linux.close(fd);
        assertFalse(ns.ip("link", "show").contains("tap9_kata"));
    }

    @Test
    void errorsNameTheCallTheTapAndTheFlags() throws Exception {
        LinuxException notTun = assertThrows(LinuxException.class, () -> Netns.call(ns.path, () -> Tun.open("lo", KATA_FLAGS)));
        assertEquals("ioctl(TUNSETIFF)(lo, flags 0x5002): EINVAL (Invalid argument)", notTun.getMessage());
        IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
                () -> Tun.open("sixteen_bytes_xx", KATA_FLAGS));
        assertTrue(tooLong.getMessage().contains("sixteen_bytes_xx"), tooLong.getMessage());
    }

    @Test
    void aTapFdSentOverAUnixSocketIsTheSameTapOnTheOtherSide() throws Exception {
        int tap = Netns.call(ns.path, () -> Tun.open("tap0_kata", KATA_FLAGS));
        Path path = dir.resolve("s.sock");
        int listener = UnixSockets.listen(path, 1);
        int client = UnixSockets.connect(path);
        int server = UnixSockets.accept(listener);
        List<Integer> fds = new ArrayList<>();
        try {
            UnixSockets.sendWithFds(client, new byte[] {'x'}, new int[] {tap});
            byte[] buf = new byte[8];
            assertEquals(1, UnixSockets.receiveWithFds(server, buf, 0, buf.length, fds));
            assertEquals(1, fds.size());
            assertEquals("tap0_kata", Tun.name(fds.get(0)));
            Tun.setVnetHdrSize(fds.get(0), 12);
            assertEquals(12, Tun.vnetHdrSize(tap), "one open file description, shared with the sender");
        } finally {
            fds.forEach(Linux::closeQuietly);
            Linux.close(server);
            Linux.close(client);
            Linux.close(listener);
            Linux.close(tap);
        }
    }
}
