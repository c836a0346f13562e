package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Empty;
import dev.podvisor.protocols.agent.CheckRequest;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.CreateSandboxRequest;
import dev.podvisor.protocols.agent.DestroySandboxRequest;
import dev.podvisor.protocols.agent.HealthCheckResponse;
import dev.podvisor.protocols.agent.LinuxNamespace;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.ReadStreamRequest;
import dev.podvisor.protocols.agent.ReadStreamResponse;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.StartContainerRequest;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.agent.WaitProcessRequest;
import dev.podvisor.protocols.agent.WaitProcessResponse;
import dev.podvisor.protocols.ttrpc.TtrpcClient;
import dev.podvisor.testbed.ch.ApiClient;
import dev.podvisor.testbed.ch.StandIns;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The real guest behind the cloud-hypervisor and virtiofsd stand-ins, driven as the shim drives a VM:
 * {@code vm.create}, {@code vm.boot}, {@code CONNECT 1024} on the hybrid vsock socket, then the agent over
 * ttrpc (Health.Check, CreateSandbox over the virtio-fs share, a container), {@code vm.shutdown} and
 * {@code vmm.shutdown}. Needs root, runc and /bin/busybox, as {@link GuestMainTest}.
 */
class GuestThroughStandInsTest {

    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String AGENT = "grpc.AgentService";
    private static final String SHARED = "/run/kata-containers/shared/containers/";

    private Path tmp;
    private Path vmDir;
    private Path api;
    private Process ch;
    private Process virtiofsd;

    @BeforeEach
    void start() throws Exception {
        tmp = Files.createTempDirectory("guest-standins-");
        vmDir = Files.createDirectory(tmp.resolve("vm"));
        api = vmDir.resolve("clh-api.sock");
        ProcessBuilder builder = StandIns.builder("cloud-hypervisor",
                List.of("--api-socket", api.toString(), "-v", "--seccomp", "false"), tmp.resolve("ch.out"));
        builder.environment().remove("PODVISOR_TESTBED_GUEST_CMD"); // the real guest emulator
        ch = builder.start();
        StandIns.await("API socket accepts", () -> StandIns.accepts(api), ch, START);
    }

    @AfterEach
    void stop() throws Exception {
        StandIns.kill(ch);
        if (virtiofsd != null) {
            StandIns.kill(virtiofsd);
        }
        GuestHarness.deleteTree(tmp);
    }

    @Test
    void bootConnectRunAContainerAndShutDown() throws Exception {
        Path shared = Files.createDirectories(tmp.resolve("shared"));
        GuestHarness.rootfs(shared.resolve("c1").resolve("rootfs"));
        Path kernel = Files.write(tmp.resolve("vmlinux"), new byte[4096]);
        Path vfsSock = vmDir.resolve("virtiofsd-kataShared.sock");
        virtiofsd = StandIns.builder("virtiofsd", List.of("--socket-path", vfsSock.toString(), "--shared-dir",
                shared.toString(), "--cache", "auto"), tmp.resolve("virtiofsd.out")).start();
        StandIns.await("virtiofsd socket", () -> Files.exists(vfsSock), virtiofsd, START);
        try (ApiClient c = new ApiClient(api)) {
            String config = """
                    {"cpus":{"boot_vcpus":1,"max_vcpus":1},"memory":{"size":1073741824,"shared":true},
                     "payload":{"kernel":"%s"},
                     "fs":[{"tag":"kataShared","socket":"%s","num_queues":1,"queue_size":1024}],
                     "vsock":{"cid":3,"socket":"%s"}}
                    """.formatted(kernel, vfsSock, vmDir.resolve("clh.sock"));
            assertEquals(204, c.call("PUT", "vm.create", config).status());
            ApiClient.Reply boot = c.call("PUT", "vm.boot", null);
            assertEquals(204, boot.status(), boot.body());

            try (TtrpcClient agent = TtrpcClient.over(StandIns.dialAgent(vmDir.resolve("clh.sock"), ch, vmDir.resolve("guest.log")))) {
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, agent.call("grpc.Health", "Check",
                        CheckRequest.getDefaultInstance(), HealthCheckResponse.parser(), TIMEOUT).getStatus());
                agent.call(AGENT, "CreateSandbox", CreateSandboxRequest.newBuilder().setSandboxId("sb")
                        .addStorages(Storage.newBuilder().setDriver("virtio-fs").setSource("kataShared")
                                .setFstype("virtiofs").setMountPoint(SHARED)).build(), Empty.parser(), TIMEOUT);
                Spec spec = Spec.newBuilder().setVersion("1.0.2")
                        .setProcess(dev.podvisor.protocols.agent.Process.newBuilder()
                                .addAllArgs(List.of("echo", "through the stand-ins")).addEnv("PATH=/bin").setCwd("/"))
                        .setRoot(Root.newBuilder().setPath(SHARED + "c1/rootfs"))
                        .addMounts(Mount.newBuilder().setDestination("/proc").setSource("proc").setType("proc"))
                        .setLinux(dev.podvisor.protocols.agent.Linux.newBuilder()
                                .addAllNamespaces(List.of("pid", "mount", "network").stream()
                                        .map(t -> LinuxNamespace.newBuilder().setType(t).build()).toList()))
                        .build();
                agent.call(AGENT, "CreateContainer", CreateContainerRequest.newBuilder().setContainerId("c1")
                        .setOCI(spec).build(), Empty.parser(), TIMEOUT);
                agent.call(AGENT, "StartContainer", StartContainerRequest.newBuilder().setContainerId("c1").build(),
                        Empty.parser(), TIMEOUT);
                ReadStreamResponse out = agent.call(AGENT, "ReadStdout", ReadStreamRequest.newBuilder()
                        .setContainerId("c1").setLen(4096).build(), ReadStreamResponse.parser(), TIMEOUT);
                assertEquals("through the stand-ins\n", out.getData().toStringUtf8());
                assertEquals(0, agent.call(AGENT, "WaitProcess", WaitProcessRequest.newBuilder().setContainerId("c1")
                        .build(), WaitProcessResponse.parser(), TIMEOUT).getStatus());
                agent.call(AGENT, "DestroySandbox", DestroySandboxRequest.getDefaultInstance(), Empty.parser(),
                        TIMEOUT);
            }
            assertEquals(204, c.call("PUT", "vm.shutdown", null).status());
            assertEquals(204, c.call("PUT", "vmm.shutdown", null).status());
        }
        assertTrue(ch.waitFor(60, TimeUnit.SECONDS), "vmm.shutdown ends the stand-in");
        assertFalse(Files.exists(vmDir.resolve("guest-root")), "the guest cleaned up its root");
        assertFalse(Files.exists(vmDir.resolve("runc")), "runc state removed");
        String log = Files.readString(vmDir.resolve("testbed.jsonl"));
        assertTrue(log.contains("\"component\":\"guest\"") && log.contains("\"method\":\"StartContainer\""), log);
    }
}
