package dev.podvisor.sandbox.network;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.linux.Netns;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Finds the pod's network the way Kata Go does ({@code pkg/oci/utils.go networkConfig},
 * {@code katautils/network_linux.go SetupNetworkNamespace}, {@code network_linux.go addAllEndpoints}): the
 * netns is the {@code path} of the {@code network} entry of the sandbox container's {@code linux.namespaces};
 * the host's own netns is refused; the netns is scanned with iproute2's JSON output.
 */
public final class NetworkDiscovery {

    /** Kata's error text for a pod that shares the host's network namespace. */
    public static final String HOST_NETWORKING = "Host networking requested, not supported by runtime";

    private static final Path HOST_NETNS = Path.of("/proc/self/ns/net");

    private NetworkDiscovery() {
    }

    /**
     * The {@code path} of the {@code network} namespace entry of an OCI spec.
     *
     * @return empty when there is no such entry or its path is empty (ctr run, a pod without CNI): no network
     */
    public static Optional<Path> netnsPath(JsonNode spec) {
        for (JsonNode ns : spec.path("linux").path("namespaces")) {
            if (ns.path("type").asText().equals("network")) {
                String path = ns.path("path").asText("");
                return path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path));
            }
        }
        return Optional.empty();
    }

    /**
     * Checks that {@code netns} is a network namespace other than the shim's (Kata's
     * {@code hostNetworkingRequested}: same nsfs dev/inode as {@code /proc/self/ns/net}).
     *
     * @throws NetworkException "Host networking requested, not supported by runtime: netns &lt;path&gt; is the
     *                          host's" for a hostNetwork pod; a named error when the path cannot be read
     */
    /** @return whether {@code spec}'s {@code linux.namespaces} has a {@code network} entry (with or without path) */
    public static boolean hasNetworkNamespace(JsonNode spec) {
        for (JsonNode ns : spec.path("linux").path("namespaces")) {
            if (ns.path("type").asText().equals("network")) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses a sandbox spec without a {@code network} namespace entry: its processes would share the
     * namespace of the runtime, i.e. the host's. That is how containerd's CRI plugin expresses a
     * {@code hostNetwork: true} pod (it drops the entry: {@code WithoutNamespace(NetworkNamespace)}) and how
     * {@code ctr run --net-host} does; a VM cannot share the host's network stack (Kata:
     * {@code hostNetworkingRequested}, documented limitation).
     *
     * @throws NetworkException "Host networking requested, not supported by runtime: the sandbox spec has no
     *                          network namespace (the pod shares the host's)"
     */
    public static void refuseMissingNetworkNamespace(JsonNode spec) {
        if (!hasNetworkNamespace(spec)) {
            throw new NetworkException(HOST_NETWORKING
                    + ": the sandbox spec has no network namespace (the pod shares the host's)");
        }
    }

    public static void refuseHostNetns(Path netns) {
        Netns.NsId id;
        try {
            id = Netns.id(netns);
        } catch (UncheckedIOException e) {
            throw new NetworkException("network namespace " + netns + " of the sandbox spec: " + e.getMessage(), e);
        }
        if (id.equals(Netns.id(HOST_NETNS))) {
            throw new NetworkException(HOST_NETWORKING + ": netns " + netns + " is the host's network namespace");
        }
    }

    /**
     * Scans {@code netns}: {@code nsenter --net=<netns> ip -j ...} for links, addresses, routes of the main
     * table (both families) and neighbours, then {@link IpJson#endpoints}.
     *
     * @return the endpoints, sorted by name; empty for a netns with only {@code lo}
     * @throws NetworkException when iproute2 fails or a link has an unsupported kind
     */
    public static List<Endpoint> scan(Path netns) {
        if (!Files.exists(netns)) {
            throw new NetworkException("network namespace " + netns + " of the sandbox spec does not exist");
        }
        return IpJson.endpoints("netns " + netns,
                NetnsCommand.check(netns, "ip", "-j", "-d", "link", "show"),
                NetnsCommand.check(netns, "ip", "-j", "addr", "show"),
                NetnsCommand.check(netns, "ip", "-j", "-4", "route", "show", "table", "main"),
                NetnsCommand.check(netns, "ip", "-j", "-6", "route", "show", "table", "main"),
                NetnsCommand.check(netns, "ip", "-j", "neigh", "show"));
    }
}
