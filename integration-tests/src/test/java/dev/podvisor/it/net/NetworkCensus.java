package dev.podvisor.it.net;

import dev.podvisor.it.support.Commands;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What pod networking can leave behind on the host, counted: named network namespaces ({@code ip -all netns}),
 * tap/tun links in the host namespace, ingress qdiscs in the host namespace, and open file descriptors on
 * {@code /dev/net/tun} in any process (a relay or a shim that kept a tap fd). Compare a census taken before a pod
 * with one taken after it is removed ({@link #newSince}); processes, mounts and sockets are {@code Leftovers}' job.
 *
 * @param netns         names listed by {@code ip -all netns}
 * @param hostTaps      tun/tap links in the host netns
 * @param hostIngress   {@code tc qdisc show} lines of ingress qdiscs in the host netns
 * @param tunFds        {@code <pid>/fd/<n>} of every open {@code /dev/net/tun} descriptor
 */
public record NetworkCensus(Set<String> netns, Set<String> hostTaps, Set<String> hostIngress, Set<String> tunFds) {

    /** @return the census now */
    public static NetworkCensus take() {
        Set<String> ns = new TreeSet<>(Commands.run(List.of("ip", "-all", "netns", "list")).requireSuccess()
                .stdout().lines().map(l -> l.split(" ")[0]).filter(s -> !s.isBlank()).toList());
        Netns host = Netns.host();
        return new NetworkCensus(ns, new TreeSet<>(host.taps()),
                new TreeSet<>(host.qdiscs().stream().filter(q -> q.startsWith("qdisc ingress")).toList()), openTunFds());
    }

    /**
     * @param before an earlier census
     * @return one line per item present now and not then; empty when nothing is new
     */
    public List<String> newSince(NetworkCensus before) {
        List<String> out = new ArrayList<>();
        netns.stream().filter(n -> !before.netns.contains(n)).forEach(n -> out.add("netns " + n));
        hostTaps.stream().filter(t -> !before.hostTaps.contains(t)).forEach(t -> out.add("tap " + t));
        hostIngress.stream().filter(q -> !before.hostIngress.contains(q)).forEach(q -> out.add(q));
        tunFds.stream().filter(f -> !before.tunFds.contains(f)).forEach(f -> out.add("/dev/net/tun fd /proc/" + f));
        return out;
    }

    private static Set<String> openTunFds() {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
                    for (Path fd : fds.toList()) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals("/dev/net/tun")) {
                                out.add(proc.getFileName() + "/fd/" + fd.getFileName());
                            }
                        } catch (IOException closed) {
                            // closed while we looked
                        }
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited while we looked
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc", e);
        }
        return out;
    }
}
