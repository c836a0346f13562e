package dev.podvisor.it.net;

import dev.podvisor.it.support.Commands;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What pod networking can leave behind on the host, counted: network namespaces (named ones, {@code ip -all
 * netns}, and the files in the given netns dirs, e.g. {@code PrivateContainerd.netnsDir()}),
 * tap/tun links in the host namespace, ingress qdiscs in the host namespace, and open file descriptors on
 * {@code /dev/net/tun} in any process (a relay or a shim that kept a tap fd). Compare a census taken before a pod
 * with one taken after it is removed ({@link #newSince}); processes, mounts and sockets are {@code Leftovers}' job.
 * Other work on the machine makes namespaces and opens taps too: a new netns counts only when its name or path
 * holds one of the test's markers, a tun fd only in a process that names one.
 *
 * @param netns         names listed by {@code ip -all netns}, and paths of the files in the netns dirs
 * @param hostTaps      tun/tap links in the host netns
 * @param hostIngress   {@code tc qdisc show} lines of ingress qdiscs in the host netns
 * @param tunFds        {@code <pid>/fd/<n> <argv> <TTRPC_ADDRESS>} of every open {@code /dev/net/tun} descriptor
 */
public record NetworkCensus(Set<String> netns, Set<String> hostTaps, Set<String> hostIngress, Set<String> tunFds) {

    /**
     * @param netnsDirs directories of bind-mounted namespace files to list as well (may not exist yet)
     * @return the census now
     */
    public static NetworkCensus take(Path... netnsDirs) {
        Set<String> ns = new TreeSet<>(Commands.run(List.of("ip", "-all", "netns", "list")).requireSuccess()
                .stdout().lines().map(l -> l.split(" ")[0]).filter(s -> !s.isBlank()).toList());
        for (Path dir : netnsDirs) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> files = Files.list(dir)) {
                    files.forEach(f -> ns.add(f.toString()));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
        }
        Netns host = Netns.host();
        return new NetworkCensus(ns, new TreeSet<>(host.taps()),
                new TreeSet<>(host.qdiscs().stream().filter(q -> q.startsWith("qdisc ingress")).toList()), openTunFds());
    }

    /**
     * @param before  an earlier census
     * @param markers strings naming the test's processes (temp dirs, ids): a new tun fd counts only in a process
     *                whose argv or TTRPC_ADDRESS holds one
     * @return one line per item present now and not then; empty when nothing is new
     */
    public List<String> newSince(NetworkCensus before, java.util.Collection<String> markers) {
        List<String> out = new ArrayList<>();
        netns.stream().filter(n -> !before.netns.contains(n)).filter(n -> names(n, markers))
                .forEach(n -> out.add("netns " + n));
        hostTaps.stream().filter(t -> !before.hostTaps.contains(t)).forEach(t -> out.add("tap " + t));
        hostIngress.stream().filter(q -> !before.hostIngress.contains(q)).forEach(q -> out.add(q));
        tunFds.stream().filter(f -> !before.tunFds.contains(f))
                .filter(f -> names(f, markers))
                .forEach(f -> out.add("/dev/net/tun fd /proc/" + f));
        return out;
    }

    private static boolean names(String text, java.util.Collection<String> markers) {
        return markers.stream().anyMatch(m -> !m.isEmpty() && text.contains(m));
    }

    private static Set<String> openTunFds() {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
                try (Stream<Path> fds = Files.list(proc.resolve("fd"))) {
                    String who = null;
                    for (Path fd : fds.toList()) {
                        try {
                            if (Files.readSymbolicLink(fd).toString().equals("/dev/net/tun")) {
                                who = who != null ? who : describe(proc);
                                out.add(proc.getFileName() + "/fd/" + fd.getFileName() + " " + who);
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

    /** @return argv joined by spaces, then the TTRPC_ADDRESS entry of the environment if any */
    private static String describe(Path proc) throws IOException {
        String argv = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).replace('\0', ' ').strip();
        String ttrpc = "";
        for (String kv : new String(Files.readAllBytes(proc.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
            if (kv.startsWith("TTRPC_ADDRESS=")) {
                ttrpc = " " + kv;
            }
        }
        return argv + ttrpc;
    }
}
