package dev.podvisor.it.net;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.Commands;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A network namespace seen from the host with iproute2 ({@code nsenter --net=<path> ip|tc ...}); the host's own
 * namespace when the path is null. Read-only: it never changes the namespace.
 */
public final class Netns {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path path;

    private Netns(Path path) {
        this.path = path;
    }

    /** @return the host's (this process's) network namespace */
    public static Netns host() {
        return new Netns(null);
    }

    /**
     * @param path a bind-mounted namespace file, e.g. containerd's {@code <state>/netns/cni-<uuid>}
     * @return a view of it
     */
    public static Netns at(Path path) {
        return new Netns(path);
    }

    /** @return the namespace file; null for the host */
    public Path path() {
        return path;
    }

    /** @return whether the namespace file still exists (always true for the host) */
    public boolean exists() {
        return path == null || Files.exists(path);
    }

    /**
     * Runs a command in the namespace.
     *
     * @param command argv, e.g. {@code tc filter show dev eth0 ingress}
     * @return its result (a non-zero exit is returned, not thrown)
     */
    public CommandResult run(String... command) {
        List<String> argv = new ArrayList<>();
        if (path != null) {
            argv.addAll(List.of("nsenter", "--net=" + path));
        }
        argv.addAll(List.of(command));
        return Commands.run(argv);
    }

    /** @return every link with its addresses ({@code ip -j -d addr show}) */
    public List<Link> links() {
        List<Link> out = new ArrayList<>();
        for (JsonNode n : json("ip", "-j", "-d", "addr", "show")) {
            out.add(Link.of(n));
        }
        return out;
    }

    /**
     * @param name an interface name
     * @return the link
     * @throws AssertionError when there is none of that name
     */
    public Link link(String name) {
        return links().stream().filter(l -> l.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no link " + name + " in " + this + ": " + links()));
    }

    /** @return links of kind {@code tun} (taps and tuns) */
    public List<String> taps() {
        return links().stream().filter(l -> l.kind().equals("tun")).map(Link::name).toList();
    }

    /**
     * @return IPv4 routes of the main table that the kernel did not add itself, as
     *         {@code "<dst> via <gw> dev <dev>"} (dst {@code default} for 0.0.0.0/0; no via for on-link routes)
     */
    public List<String> routes() {
        List<String> out = new ArrayList<>();
        for (JsonNode r : json("ip", "-j", "-4", "route", "show")) {
            if (r.path("protocol").asText().equals("kernel")) {
                continue;
            }
            out.add(r.path("dst").asText() + (r.has("gateway") ? " via " + r.path("gateway").asText() : "")
                    + " dev " + r.path("dev").asText());
        }
        return out;
    }

    /** @return {@code tc qdisc show} lines, one per qdisc (e.g. {@code qdisc ingress ffff: dev eth0 parent ffff:fff1}) */
    public List<String> qdiscs() {
        return run("tc", "qdisc", "show").requireSuccess().stdout().lines().filter(l -> l.startsWith("qdisc")).toList();
    }

    /**
     * @param dev an interface
     * @return {@code tc filter show dev <dev> ingress} output
     */
    public String ingressFilters(String dev) {
        return run("tc", "filter", "show", "dev", dev, "ingress").requireSuccess().stdout();
    }

    private JsonNode json(String... command) {
        String out = run(command).requireSuccess().stdout();
        try {
            return JSON.readTree(out.isBlank() ? "[]" : out);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON from " + String.join(" ", command) + ": " + out, e);
        }
    }

    @Override
    public String toString() {
        return path == null ? "host netns" : "netns " + path;
    }
}
