package dev.podvisor.sandbox.log;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogfmtLogTest {

    @Test
    void linesCarryTimeLevelFixedFieldsInOrderAndQuotedValues() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Map<String, String> fixed = new LinkedHashMap<>();
        fixed.put("sandbox", "pod-1");
        fixed.put("runtime", "io.containerd.kata.v2");
        LogfmtLog log = new LogfmtLog(out, LogfmtLog.Level.INFO, fixed);
        log.info("mount planned", "container", "app", "rule", "emptydir-tmpfs", "reason", "host dir is a \"tmpfs\"");
        String line = out.toString(StandardCharsets.UTF_8);
        assertTrue(line.matches("time=\\d{4}-\\d\\d-\\d\\dT\\S+Z level=info msg=\"mount planned\" sandbox=pod-1 "
                + "runtime=io.containerd.kata.v2 container=app rule=emptydir-tmpfs reason=\"host dir is a \\\\\"tmpfs\\\\\"\"\n"), line);
    }

    @Test
    void enableDebugLowersTheThreshold() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        LogfmtLog log = new LogfmtLog(out, LogfmtLog.Level.INFO, Map.of());
        log.debug("hidden");
        log.enableDebug();
        log.debug("shown");
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().count(), text);
        assertTrue(text.contains("level=debug msg=shown"), text);
    }
}
