package dev.podvisor.it.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The testbed's JSON-lines log of one VM ({@code <vm dir>/testbed.jsonl}, i.e. {@code <shim state_dir>/<sandbox
 * id>/testbed.jsonl}): every API request and answer of the cloud-hypervisor stand-in and every agent message, one
 * object per line with {@code ts}, {@code component}, {@code kind} and the payload (docs/architecture.md).
 */
public final class TestbedLog {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestbedLog() {
    }

    /**
     * @param file the {@code testbed.jsonl}
     * @return its entries, in order
     * @throws IOException when it cannot be read or a line is not JSON
     */
    public static List<JsonNode> read(Path file) throws IOException {
        List<JsonNode> entries = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            entries.add(JSON.readTree(line));
        }
        return entries;
    }

    /**
     * @param log      entries of {@link #read}
     * @param endpoint the API endpoint, e.g. {@code vm.add-disk}
     * @return the stand-in's {@code api-request} entries for it ({@code path} ending with it; {@code body} holds
     *         the request's JSON)
     */
    public static List<JsonNode> apiRequests(List<JsonNode> log, String endpoint) {
        return log.stream().filter(e -> e.path("kind").asText().equals("api-request")
                && e.path("path").asText().endsWith("/" + endpoint)).toList();
    }
}
