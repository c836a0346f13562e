package dev.podvisor.testbed.ch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The guest emulator command the cloud-hypervisor stand-in runs on {@code vm.boot}. */
class GuestLinkTest {
    @AfterEach
    void clear() {
        System.clearProperty(GuestLink.GUEST_CMD_PROPERTY);
    }

    @Test
    void defaultCommandIsUnshareWithThisJvmsJavaFlagsAndClassPath() {
        List<String> cmd = GuestLink.commandPrefix(" ");
        assertEquals(List.of("unshare", "--mount", "--propagation", "slave", "--net"), cmd.subList(0, 5),
                "the guest has its own mount and network namespaces");
        assertEquals(StandIns.java(), cmd.get(5));
        int cp = cmd.indexOf("-cp");
        assertTrue(cp > 5, cmd.toString());
        assertEquals(System.getProperty("java.class.path"), cmd.get(cp + 1));
        assertEquals("dev.podvisor.testbed.guest.GuestMain", cmd.getLast());
        assertTrue(cmd.subList(6, cp).containsAll(java.lang.management.ManagementFactory.getRuntimeMXBean()
                .getInputArguments().stream().filter(a -> !a.startsWith("-javaagent") && !a.startsWith("-agentlib")).toList()));
    }

    @Test
    void overrideReplacesThePrefix() {
        System.setProperty(GuestLink.GUEST_CMD_PROPERTY, "/usr/bin/java  -cp /x  my.Guest");
        assertEquals(List.of("/usr/bin/java", "-cp", "/x", "my.Guest"), GuestLink.commandPrefix());
    }
}
