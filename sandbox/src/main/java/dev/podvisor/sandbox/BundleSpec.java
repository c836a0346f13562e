package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.JsonNode;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** What the sandbox reads from a bundle's OCI {@code config.json}. */
final class BundleSpec {

    private BundleSpec() {
    }

    /**
     * @param bundle the bundle directory
     * @return its {@code config.json} as a tree
     * @throws IllegalArgumentException {@code <bundle>/config.json: cannot read: …}
     */
    static JsonNode spec(Path bundle) {
        try {
            return JsonTrees.parse(bundle.resolve("config.json"));
        } catch (IOException e) {
            throw new IllegalArgumentException(bundle.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
    }

    /**
     * @param bundle the bundle directory
     * @return the spec's {@code annotations}, empty when it has none
     * @throws IllegalArgumentException {@code <bundle>/config.json: cannot read: …}
     */
    static Map<String, String> annotations(Path bundle) {
        try {
            JsonNode spec = JsonTrees.parse(bundle.resolve("config.json"));
            Map<String, String> annotations = new java.util.HashMap<>();
            spec.path("annotations").fields().forEachRemaining(e -> annotations.put(e.getKey(), e.getValue().asText()));
            return annotations;
        } catch (IOException e) {
            throw new IllegalArgumentException(bundle.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
    }

    /** Kata's longest hostname (kata_agent.go {@code maxHostnameLen}). */
    static final int MAX_HOSTNAME_LENGTH = 64;

    /**
     * The CreateSandbox hostname as Kata sends it (kata_agent.go {@code startSandbox}): the sandbox spec's
     * {@code hostname} (the pod's, from containerd's CRI), cut to {@value #MAX_HOSTNAME_LENGTH} characters; empty
     * when the spec has none.
     */
    static String hostname(Path bundle) {
        try {
            JsonNode spec = JsonTrees.parse(bundle.resolve("config.json"));
            String hostname = spec.path("hostname").asText("");
            return hostname.length() > MAX_HOSTNAME_LENGTH ? hostname.substring(0, MAX_HOSTNAME_LENGTH) : hostname;
        } catch (IOException e) {
            throw new IllegalArgumentException(bundle.resolve("config.json") + ": cannot read: " + e.getMessage());
        }
    }
}
