package dev.podvisor.hypervisor.clh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.Netns;
import dev.podvisor.storage.linux.Tun;
import dev.podvisor.storage.linux.UnixSockets;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CloudHypervisorClient#addNet} on the wire: a server made of {@link UnixSockets#accept} and
 * {@link UnixSockets#receiveWithFds}, as Cloud Hypervisor's micro-http collects fds, checks that the tap fd
 * arrives with the first bytes of the request and is the tap (root: the taps live in a private netns).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AddNetTest {

    @TempDir
    Path dir;

    private final String netns = "podvisor-t-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffffffL);
    private final List<Integer> taps = new ArrayList<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private int listener = -1;
    private CompletableFuture<Void> server;
    private CloudHypervisorClient client;
    private volatile boolean stopped;

    /** One request as the server saw it: text, the fds of its first read, any fds later, its connection. */
    record Received(String head, String body, List<Integer> firstReadFds, int laterFds, int connection) {
    }

    @BeforeEach
    void makeNamespace() throws Exception {
        run("ip", "netns", "add", netns);
    }

    @AfterEach
    void cleanUp() throws Exception {
        stopped = true; // closing a listening fd does not wake accept(): the server polls
        if (client != null) {
            client.close();
        }
        if (server != null) {
            server.handle((v, e) -> null).get();
        }
        Linux.closeQuietly(listener);
        received.forEach(r -> r.firstReadFds().forEach(Linux::closeQuietly));
        taps.forEach(Linux::closeQuietly);
        run("ip", "netns", "del", netns);
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + ": " + out);
        }
    }

    private int tap(String name) throws Exception {
        int fd = Netns.call(Path.of("/var/run/netns", netns),
                () -> Tun.open(name, Tun.IFF_TAP | Tun.IFF_NO_PI | Tun.IFF_VNET_HDR));
        taps.add(fd);
        return fd;
    }

    /** Serves connections one after another; each request is answered by {@code answer}. */
    private void serve(Function<Received, String> answer) {
        Path socket = dir.resolve("clh-api.sock");
        listener = UnixSockets.listen(socket, 4);
        client = new CloudHypervisorClient(socket, Duration.ofSeconds(10));
        server = CompletableFuture.runAsync(() -> {
            int connections = 0;
            while (!stopped) {
                if (UnixSockets.poll(listener, UnixSockets.POLLIN, 100) == 0) {
                    continue;
                }
                int conn = UnixSockets.accept(listener);
                int number = ++connections;
                Thread.ofPlatform().daemon(true).start(() -> {
                    try {
                        Received r;
                        while ((r = readRequest(conn, number)) != null) {
                            synchronized (received) {
                                received.add(r);
                                byte[] bytes = answer.apply(r).getBytes(StandardCharsets.US_ASCII);
                                Linux.writeFully(conn, bytes, 0, bytes.length);
                            }
                        }
                    } finally {
                        Linux.closeQuietly(conn);
                    }
                });
            }
        }, runnable -> Thread.ofPlatform().daemon(true).start(runnable));
    }

    private static Received readRequest(int conn, int connection) {
        byte[] buf = new byte[65536];
        int filled = 0;
        List<Integer> first = new ArrayList<>();
        List<Integer> later = new ArrayList<>();
        int headEnd = -1;
        int length = 0;
        while (headEnd < 0 || filled < headEnd + 4 + length) {
            int n = UnixSockets.receiveWithFds(conn, buf, filled, buf.length - filled, filled == 0 ? first : later);
            if (n == 0) {
                return null;
            }
            filled += n;
            String text = new String(buf, 0, filled, StandardCharsets.US_ASCII);
            headEnd = text.indexOf("\r\n\r\n");
            if (headEnd >= 0) {
                for (String line : text.substring(0, headEnd).split("\r\n")) {
                    if (line.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
            }
        }
        later.forEach(Linux::closeQuietly);
        String text = new String(buf, 0, filled, StandardCharsets.US_ASCII);
        return new Received(text.substring(0, headEnd), text.substring(headEnd + 4), first, later.size(), connection);
    }

    private static String noContent() {
        return "HTTP/1.1 204 No Content\r\n\r\n";
    }

    private static String json(int status, String body) {
        return "HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
    }

    @Test
    void theTapFdTravelsWithTheFirstByteOfTheRequestAndAColdPlugAnswersNothing() throws Exception {
        int tap = tap("tap0_kata");
        serve(r -> noContent());
        Optional<PciDeviceInfo> info = client.addNet(NetConfig.forTapFd("02:42:0a:58:00:05"), new int[] {tap});
        assertTrue(info.isEmpty());
        Received r = received.getFirst();
        assertTrue(r.head().startsWith("PUT /api/v1/vm.add-net HTTP/1.1\r\n"), r.head());
        assertTrue(r.head().contains("\r\nContent-Type: application/json"), r.head());
        assertEquals(1, r.firstReadFds().size(), "one fd, on the read that returned the request's first bytes");
        assertEquals(0, r.laterFds());
        assertEquals("tap0_kata", Tun.name(r.firstReadFds().getFirst()));
        JsonNode body = JsonTrees.parse(r.body());
        assertEquals("02:42:0a:58:00:05", body.path("mac").asText());
        assertEquals(2, body.path("num_queues").asInt());
        assertTrue(body.path("tap").isMissingNode() && body.path("fds").isMissingNode() && body.path("id").isMissingNode());
    }

    @Test
    void severalNicsShareOneConnectionAndAHotPlugGivesThePciAddress() throws Exception {
        int tap0 = tap("tap0_kata");
        int tap1 = tap("tap1_kata");
        serve(r -> received.size() == 1 ? noContent() : json(200, "{\"id\":\"_net1\",\"bdf\":\"0000:00:06.0\"}"));
        // from a virtual thread: the blocking FFM calls move to a platform thread
        CompletableFuture<Optional<PciDeviceInfo>> both = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                client.addNet(NetConfig.forTapFd("02:00:00:00:00:01"), new int[] {tap0});
                both.complete(client.addNet(NetConfig.forTapFd("02:00:00:00:00:02"), new int[] {tap1}));
            } catch (Throwable t) {
                both.completeExceptionally(t);
            }
        });
        PciDeviceInfo hot = both.get().orElseThrow();
        assertEquals(new PciDeviceInfo("_net1", "0000:00:06.0"), hot);
        assertEquals("06", PciPaths.fromBdf(hot.bdf()));
        assertEquals(2, received.size());
        assertEquals(1, received.get(1).connection(), "keep-alive: both on the first connection");
        assertEquals("tap1_kata", Tun.name(received.get(1).firstReadFds().getFirst()));
    }

    @Test
    void createThenOneAddNetPerNicThenBoot() throws Exception {
        int tap0 = tap("tap0_kata");
        int tap1 = tap("tap1_kata");
        serve(r -> noContent());
        VmConfig config = new VmConfig(new PayloadConfig("/k", "quiet", null, null), new CpusConfig(1, 1, null, null),
                null, null, null, null, null, null, null, null, null, null);
        List<Optional<PciDeviceInfo>> answers = client.createAndBoot(config, List.of(
                new TapNic(NetConfig.forTapFd("02:00:00:00:00:01"), new int[] {tap0}),
                new TapNic(NetConfig.forTapFd("02:00:00:00:00:02"), new int[] {tap1})));
        assertEquals(List.of(Optional.empty(), Optional.empty()), answers, "204: cold plug");
        assertEquals(List.of("PUT /api/v1/vm.create", "PUT /api/v1/vm.add-net", "PUT /api/v1/vm.add-net",
                "PUT /api/v1/vm.boot"), received.stream().map(r -> r.head().substring(0, r.head().indexOf(" HTTP"))).toList());
        assertEquals(List.of(0, 1, 1, 0), received.stream().map(r -> r.firstReadFds().size()).toList(),
                "fds only with add-net");
        assertTrue(JsonTrees.parse(received.getFirst().body()).path("net").isMissingNode(),
                "vm.create carries no nets");
        assertEquals(List.of("tap0_kata", "tap1_kata"),
                List.of(Tun.name(received.get(1).firstReadFds().getFirst()), Tun.name(received.get(2).firstReadFds().getFirst())));
    }

    @Test
    void refusalsAndBadArgumentsAreNamed() throws Exception {
        int tap = tap("tap0_kata");
        serve(r -> json(400, "\"VnetQueueFdMismatch\""));
        CloudHypervisorApiException e = assertThrows(CloudHypervisorApiException.class,
                () -> client.addNet(NetConfig.forTapFd("02:00:00:00:00:01"), new int[] {tap}));
        assertEquals(400, e.statusCode());
        assertEquals("vm.add-net", e.endpoint());
        IllegalArgumentException mismatch = assertThrows(IllegalArgumentException.class,
                () -> client.addNet(NetConfig.forTapFd("02:00:00:00:00:01"), new int[] {tap, tap}));
        assertTrue(mismatch.getMessage().contains("2 fds for num_queues 2"), mismatch.getMessage());
        assertEquals(1, received.size(), "nothing sent for the bad call");
    }

    @Test
    void theBodyIsKataGosNetConfig() throws Exception {
        assertEquals("{\"ip\":\"192.168.249.1\",\"mask\":\"255.255.255.0\",\"mac\":\"aa:bb:cc:dd:ee:ff\",\"iommu\":false,"
                        + "\"num_queues\":2,\"queue_size\":256,\"vhost_user\":false,\"vhost_mode\":\"Client\","
                        + "\"offload_tso\":true,\"offload_ufo\":true,\"offload_csum\":true}",
                JsonTrees.toString(NetConfig.forTapFd("aa:bb:cc:dd:ee:ff").toJson(), false));
        assertEquals(1, NetConfig.forTapFd("aa:bb:cc:dd:ee:ff").queuePairs());
    }
}
