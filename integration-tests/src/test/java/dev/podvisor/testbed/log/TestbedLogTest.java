package dev.podvisor.testbed.log;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TestbedLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void writesOneObjectPerLineWithTsComponentKindAndFieldsInOrder() throws Exception {
        Path file = dir.resolve("testbed.jsonl");
        try (TestbedLog log = TestbedLog.open(file)) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("method", "PUT");
            fields.put("status", 204);
            fields.put("body", Map.of("a", List.of(1, 2)));
            log.log("ch", "response", fields);
            log.log("guest", "boot", null);
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(2, lines.size());
        JsonNode first = JSON.readTree(lines.get(0));
        List<String> keys = new ArrayList<>();
        first.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("ts", "component", "kind", "method", "status", "body"), keys);
        assertEquals("ch", first.get("component").asText());
        assertEquals(204, first.get("status").asInt());
        assertEquals(2, first.get("body").get("a").get(1).asInt());
        assertTrue(first.get("ts").asText().endsWith("Z"));
        assertEquals("boot", JSON.readTree(lines.get(1)).get("kind").asText());
    }

    @Test
    void appendsFromSeveralWritersWithoutTearingLines() throws Exception {
        Path file = dir.resolve("testbed.jsonl");
        try (TestbedLog a = TestbedLog.open(file); TestbedLog b = TestbedLog.open(file)) {
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                TestbedLog log = t % 2 == 0 ? a : b;
                int id = t;
                threads.add(Thread.ofVirtual().start(() -> {
                    for (int i = 0; i < 50; i++) {
                        log.log("w" + id, "line", Map.of("i", i, "pad", "x".repeat(200)));
                    }
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
        }
        List<String> lines = Files.readAllLines(file);
        assertEquals(400, lines.size());
        for (String line : lines) {
            assertEquals("line", JSON.readTree(line).get("kind").asText());
        }
    }

    @Test
    void refusesReservedKeysAndIgnoresLinesAfterClose() throws Exception {
        Path file = dir.resolve("testbed.jsonl");
        TestbedLog log = TestbedLog.open(file);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> log.log("ch", "x", Map.of("kind", "y")));
        assertTrue(e.getMessage().contains("'kind'"), e.getMessage());
        log.close();
        log.log("ch", "late", Map.of());
        assertEquals(0, Files.readAllLines(file).size());
    }
}
