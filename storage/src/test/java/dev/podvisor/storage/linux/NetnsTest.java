package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@link Netns} against a private namespace made with {@code ip netns add} (root). */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class NetnsTest {

    private static final Path SELF = Path.of("/proc/self/ns/net");
    private static final Path THREAD_SELF = Path.of("/proc/thread-self/ns/net");

    @TempDir
    Path dir;

    @RegisterExtension
    final ScratchNetns ns = new ScratchNetns();

    @Test
    void theTaskRunsInTheNamespaceOnAFreshPlatformThreadThatEnds() throws Exception {
        AtomicReference<Thread> worker = new AtomicReference<>();
        Netns.NsId inside = Netns.call(ns.path, () -> {
            worker.set(Thread.currentThread());
            return Netns.id(THREAD_SELF);
        });
        assertEquals(Netns.id(ns.path), inside);
        assertNotEquals(Netns.id(SELF), inside);
        assertFalse(worker.get().isVirtual());
        assertFalse(worker.get().isAlive());
        assertTrue(worker.get() != Thread.currentThread());
        assertEquals(Netns.id(SELF), Netns.id(THREAD_SELF), "the caller stays in its own namespace");
    }

    @Test
    void linksMadeInsideAppearInTheNamespaceOnly() throws Exception {
        String name = "pvd" + Long.toHexString(System.nanoTime() & 0xffffff);
        Netns.call(ns.path, () -> ScratchNetns.run("ip", "link", "add", name, "type", "veth", "peer", "name", name + "p"));
        assertTrue(ns.ip("link", "show", name).contains(name));
        assertFalse(Files.exists(Path.of("/sys/class/net", name)));
    }

    @Test
    void exceptionsOfTheTaskPropagateUnwrapped() {
        IOException checked = new IOException("boom");
        assertSame(checked, assertThrows(IOException.class, () -> Netns.call(ns.path, () -> {
            throw checked;
        })));
        IllegalStateException unchecked = new IllegalStateException("bang");
        assertSame(unchecked, assertThrows(IllegalStateException.class, () -> Netns.call(ns.path, () -> {
            throw unchecked;
        })));
    }

    @Test
    void aFileThatIsNoNetworkNamespaceIsRefusedBeforeTheTaskRuns() throws Exception {
        AtomicBoolean ran = new AtomicBoolean();
        LinuxException wrongKind = assertThrows(LinuxException.class,
                () -> Netns.call(Path.of("/proc/self/ns/uts"), () -> ran.getAndSet(true)));
        assertEquals("setns", wrongKind.call());
        assertEquals(Linux.EINVAL, wrongKind.errno());
        Path missing = dir.resolve("missing");
        LinuxException absent = assertThrows(LinuxException.class, () -> Netns.call(missing, () -> ran.getAndSet(true)));
        assertEquals("open(" + missing + "): ENOENT (No such file or directory)", absent.getMessage());
        assertFalse(ran.get());
    }

    @Test
    void idsTellNamespacesApartAndFollowProcLinks() {
        assertEquals(Netns.id(SELF), Netns.id(Path.of("/proc/" + ProcessHandle.current().pid() + "/ns/net")));
        assertNotEquals(Netns.id(SELF), Netns.id(ns.path));
        assertNotEquals(Netns.id(SELF), Netns.id(Path.of("/proc/self/ns/uts")));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Netns.id(dir.resolve("nope")));
        assertTrue(e.getMessage().startsWith("stat(" + dir.resolve("nope") + ")"), e.getMessage());
    }
}
