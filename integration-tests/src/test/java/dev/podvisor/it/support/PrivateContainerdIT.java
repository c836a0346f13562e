package dev.podvisor.it.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The test support itself, through runc only (needs root, as CI runs): a private containerd starts, imports the
 * hand-made busybox image, runs containers, and leaves nothing once closed.
 */
class PrivateContainerdIT {

    @Test
    void runsBusyboxWithRuncAndLeavesNothing() {
        Leftovers.Snapshot before = Leftovers.take();
        PrivateContainerd c = PrivateContainerd.builder().start();
        String echo;
        String cat;
        String detached;
        try (c) {
            BusyboxImage.importInto(c, "default");
            echo = c.uniqueId("it-support-echo");
            CommandResult hello = c.ctr("run", "--rm", "--runtime", "io.containerd.runc.v2", BusyboxImage.NAME, echo,
                    "echo", "hello").requireSuccess();
            assertEquals("hello", hello.out());

            cat = c.uniqueId("it-support-cat");
            CommandResult piped = c.runWithStdin("from stdin\n", "run", "--rm", "--runtime", "io.containerd.runc.v2",
                    BusyboxImage.NAME, cat, "head", "-n", "1").requireSuccess();
            assertEquals("from stdin", piped.out());

            // A running task at close: stop must kill it, its shim and its rootfs mount.
            detached = c.uniqueId("it-support-sleep");
            c.ctr("run", "-d", "--runtime", "io.containerd.runc.v2", BusyboxImage.NAME, detached, "sleep", "600")
                    .requireSuccess();
            assertTrue(c.ctr("tasks", "ls").requireSuccess().stdout().contains(detached));
        }
        assertFalse(Files.exists(c.dir()), "private dir removed");
        Leftovers.assertNothingNewSince(before, List.of(c.dir().toString(), echo, cat, detached));
    }

    @Test
    void theChosenContainerdVersionRuns() {
        ContainerdVersion chosen = ContainerdVersion.selected();
        try (PrivateContainerd c = PrivateContainerd.builder().start()) {
            assertEquals(chosen, c.version());
            String out = c.ctr("version").requireSuccess().stdout();
            // "Server:" then "  Version:  2.1.9+unknown" (2.x) or "  Version:  1.6.20~ds1" (1.6)
            String server = out.substring(out.indexOf("Server:"));
            assertTrue(server.matches("(?s)Server:\\s+Version:\\s+v?" + java.util.regex.Pattern.quote(chosen.label() + ".")
                    + ".*"), "containerd " + chosen.label() + " answers: " + out);
            String config = Files.readString(c.dir().resolve("config.toml"));
            assertTrue(config.contains(chosen == ContainerdVersion.V1_6 ? "\nversion = 2\n" : "\nversion = 3\n"), config);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void leftoversReportsANewMountNamingAMarkerOnly() throws Exception {
        Path dir = Files.createTempDirectory("it-support-leftovers-");
        try {
            Leftovers.Snapshot before = Leftovers.take();
            Commands.run(List.of("mount", "-t", "tmpfs", "-o", "size=1m", "it-support", dir.toString()))
                    .requireSuccess();
            try {
                List<String> found = Leftovers.newSince(before, List.of(dir.toString()));
                assertEquals(1, found.size(), found.toString());
                assertTrue(found.getFirst().startsWith("mount " + dir + " (tmpfs"), found.getFirst());
                assertEquals(List.of(), Leftovers.newSince(before, List.of("/no/such/marker")));
                assertThrows(AssertionError.class, () -> Leftovers.assertNothingNewSince(before, List.of(dir.toString())));
            } finally {
                Commands.run(List.of("umount", dir.toString())).requireSuccess();
            }
            assertEquals(List.of(), Leftovers.newSince(before, List.of(dir.toString())));
        } finally {
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void unescapesMountinfoOctal() {
        assertEquals("/tmp/a b\\c", Leftovers.unescape("/tmp/a\\040b\\134c"));
        assertEquals("/plain", Leftovers.unescape("/plain"));
    }
}
