package dev.podvisor.hypervisor.clh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Entry point of the cloud-hypervisor stand-in process used by {@code CloudHypervisorProcessTest}: records its
 * arguments in {@code <api socket dir>/clh.args}, serves {@code vmm.ping} (with its pid) and exits on
 * {@code vmm.shutdown} — or, with {@code --linger} among its arguments, answers it and stays (a VMM slow to exit).
 */
public final class FakeCloudHypervisorMain {
    private FakeCloudHypervisorMain() {
    }

    /**
     * @param args the cloud-hypervisor command line
     * @throws Exception on any failure (the test then sees the exit status)
     */
    public static void main(String[] args) throws Exception {
        Path socket = null;
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--api-socket")) {
                socket = Path.of(args[i + 1]);
            }
        }
        if (socket == null) {
            System.err.println("error: --api-socket missing");
            System.exit(1);
        }
        Files.write(socket.resolveSibling("clh.args"), List.of(args));
        long pid = ProcessHandle.current().pid();
        try (var fake = new FakeCloudHypervisor(socket, req -> switch (req.endpoint()) {
            case "vmm.ping" -> FakeCloudHypervisor.Reply.json(
                    "{\"build_version\":\"v51.1-fake\",\"version\":\"51.1.0\",\"pid\":" + pid + ",\"features\":[\"kvm\"]}");
            case "vmm.shutdown" -> FakeCloudHypervisor.Reply.noContent().thenClose();
            default -> FakeCloudHypervisor.Reply.error(404, "[\"unknown endpoint\"]");
        })) {
            var done = new CountDownLatch(1);
            fake.onReplySent(req -> {
                if (req.endpoint().equals("vmm.shutdown")) {
                    done.countDown();
                }
            });
            done.await();
        }
        if (List.of(args).contains("--linger")) {
            new CountDownLatch(1).await(); // until killed
        }
        System.exit(0);
    }
}
