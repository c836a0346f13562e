package dev.podvisor.it.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.cri.Pod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Finds a CRI pod's network namespace on the host. */
public final class PodNetns {

    private static final ObjectMapper JSON = new ObjectMapper();

    private PodNetns() {
    }

    /**
     * @param pod a running pod
     * @return its network namespace: the {@code network} entry of the sandbox's OCI spec (containerd's verbose
     *         sandbox info, {@code runtimeSpec.linux.namespaces}), as the runtime receives it
     * @throws AssertionError when the sandbox spec has no network namespace path (e.g. hostNetwork)
     */
    public static Netns of(Pod pod) {
        String info = pod.sandboxInfo().get("info");
        if (info == null) {
            throw new AssertionError("no verbose info for sandbox " + pod.sandboxId() + ": " + pod.sandboxInfo().keySet());
        }
        try {
            JsonNode root = JSON.readTree(info);
            for (JsonNode ns : root.path("runtimeSpec").path("linux").path("namespaces")) {
                if (ns.path("type").asText().equals("network") && !ns.path("path").asText().isEmpty()) {
                    return Netns.at(Path.of(ns.path("path").asText()));
                }
            }
            throw new AssertionError("sandbox " + pod.sandboxId() + " has no network namespace path in its spec: "
                    + root.path("runtimeSpec").path("linux").path("namespaces"));
        } catch (IOException e) {
            throw new UncheckedIOException("sandbox info is not JSON: " + info, e);
        }
    }
}
