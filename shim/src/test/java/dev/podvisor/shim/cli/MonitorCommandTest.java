package dev.podvisor.shim.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MonitorCommandTest {

    @Test
    void listenAddressesParseLikeKataMonitors() {
        assertEquals(new InetSocketAddress("127.0.0.1", 8090), MonitorCommand.parseAddress("127.0.0.1:8090"));
        assertEquals(new InetSocketAddress("::1", 0), MonitorCommand.parseAddress("[::1]:0"));
        IllegalArgumentException noPort = assertThrows(IllegalArgumentException.class, () -> MonitorCommand.parseAddress("localhost"));
        assertTrue(noPort.getMessage().contains("'localhost'"), noPort.getMessage());
        assertThrows(IllegalArgumentException.class, () -> MonitorCommand.parseAddress("127.0.0.1:70000"));
        assertThrows(IllegalArgumentException.class, () -> MonitorCommand.parseAddress("127.0.0.1:http"));
    }

    @Test
    void badUsageExitsTwoNamingTheArgument() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PodvisorCli.run(List.of("monitor", "--scrape-timeout", "-5"), Map.of(), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, code);
        String text = err.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("--scrape-timeout '-5'"), text);
        assertTrue(text.contains("usage: podvisor monitor"), text);
    }

    @Test
    void anAddressInUseExitsOne() throws Exception {
        try (var taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = PodvisorCli.run(List.of("monitor", "--listen-address", "127.0.0.1:" + taken.getLocalPort(),
                    "--management-dir", "/nonexistent"), Map.of(), new PrintStream(new ByteArrayOutputStream()),
                    new PrintStream(err, true, StandardCharsets.UTF_8));
            assertEquals(1, code);
            assertTrue(err.toString(StandardCharsets.UTF_8).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()));
        }
    }
}
