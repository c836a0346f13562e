package dev.podvisor.sandbox.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.log.LogfmtLog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The pod's network as found before anything is started: the netns and its endpoints (empty: the VM gets no
 * NIC), decided from the sandbox container's spec and {@code internetworking_model}.
 *
 * @param netns     the pod netns, empty when there is none (or the model is {@code none})
 * @param endpoints the interfaces that become guest NICs, sorted by name
 */
public record PodNetwork(Optional<Path> netns, List<Endpoint> endpoints) {

    public PodNetwork {
        endpoints = List.copyOf(endpoints);
    }

    /** No network: the VM gets no NIC. */
    public static PodNetwork none() {
        return new PodNetwork(Optional.empty(), List.of());
    }

    /**
     * Decides the pod's network, in this order:
     * <ol>
     *   <li>{@code internetworking_model = "none"}: no scan, no NIC (Kata: the user wires the VM);</li>
     *   <li>no {@code network} namespace entry at all (a hostNetwork pod, {@code ctr run --net-host}): the pod
     *       would share the host's netns: refused, with Kata's error text;</li>
     *   <li>a {@code network} entry without path (ctr run: a new, empty netns): no NIC;</li>
     *   <li>the netns is the host's (hostNetwork pod): refused, with Kata's error text;</li>
     *   <li>otherwise the netns is scanned ({@link NetworkDiscovery#scan}); a netns with only {@code lo} gives
     *       no NIC.</li>
     * </ol>
     * Nothing is created here.
     *
     * @param model       {@code tcfilter} or {@code none} (the configuration refuses anything else)
     * @param sandboxSpec the sandbox container's OCI spec
     * @throws NetworkException for a host netns, a netns that cannot be read, or an unsupported interface
     */
    public static PodNetwork plan(String model, JsonNode sandboxSpec, LogfmtLog log) {
        if (model.equals("none")) {
            log.info("internetworking_model is none: the VM gets no NIC");
            return none();
        }
        if (!model.equals("tcfilter")) {
            throw new NetworkException("internetworking_model \"" + model + "\": not supported");
        }
        NetworkDiscovery.refuseMissingNetworkNamespace(sandboxSpec);
        Optional<Path> netns = NetworkDiscovery.netnsPath(sandboxSpec);
        if (netns.isEmpty()) {
            log.info("the sandbox spec names no network namespace path: the VM gets no NIC");
            return none();
        }
        NetworkDiscovery.refuseHostNetns(netns.get());
        List<Endpoint> endpoints = NetworkDiscovery.scan(netns.get());
        if (endpoints.isEmpty()) {
            log.info("no interface with an address in the pod netns: the VM gets no NIC", "netns", netns.get());
        }
        return new PodNetwork(netns, endpoints);
    }

    /**
     * The pod's DNS lines for {@code CreateSandbox.dns}: the lines of the file mounted at
     * {@code /etc/resolv.conf} in the sandbox spec (Kata Go {@code getDNS}), blank lines left out; empty when
     * there is no such mount.
     *
     * @throws NetworkException when the mounted file cannot be read
     */
    public static List<String> dns(JsonNode sandboxSpec) {
        for (JsonNode mount : sandboxSpec.path("mounts")) {
            if (mount.path("destination").asText().equals("/etc/resolv.conf")) {
                Path source = Path.of(mount.path("source").asText());
                try {
                    return Files.readAllLines(source, StandardCharsets.UTF_8).stream()
                            .filter(line -> !line.isBlank()).toList();
                } catch (IOException e) {
                    throw new NetworkException("/etc/resolv.conf of the sandbox: cannot read " + source + ": " + e, e);
                }
            }
        }
        return List.of();
    }
}
