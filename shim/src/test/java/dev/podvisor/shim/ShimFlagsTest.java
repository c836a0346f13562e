package dev.podvisor.shim;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShimFlagsTest {

    @Test
    void parsesWhatContainerd16PassesToStart() {
        ShimFlags flags = ShimFlags.parse(List.of("-namespace", "default", "-address", "/run/containerd/containerd.sock",
                "-publish-binary", "/usr/bin/containerd", "-id", "abc", "-debug", "start"));
        assertEquals("default", flags.namespace());
        assertEquals("/run/containerd/containerd.sock", flags.address());
        assertEquals("/usr/bin/containerd", flags.publishBinary());
        assertEquals("abc", flags.id());
        assertTrue(flags.debug());
        assertEquals("start", flags.action());
    }

    @Test
    void parsesDeleteWithBundleAndEqualsForm() {
        ShimFlags flags = ShimFlags.parse(List.of("--namespace=k8s.io", "-address=/a", "-id", "x", "-bundle", "/b", "delete"));
        assertEquals("k8s.io", flags.namespace());
        assertEquals("/b", flags.bundle());
        assertEquals("delete", flags.action());
    }

    @Test
    void namesTheBadFlag() {
        var unknown = assertThrows(IllegalArgumentException.class, () -> ShimFlags.parse(List.of("-bogus", "start")));
        assertEquals("flag provided but not defined: -bogus", unknown.getMessage());
        var missing = assertThrows(IllegalArgumentException.class, () -> ShimFlags.parse(List.of("-id")));
        assertEquals("flag -id: needs a value", missing.getMessage());
        var noId = assertThrows(IllegalArgumentException.class,
                () -> ShimFlags.parse(List.of("-namespace", "n", "start")).requireTaskFlags());
        assertTrue(noId.getMessage().contains("-id"));
    }

    @Test
    void socketAddressFollowsContainerd() {
        // sha256("/run/containerd/containerd.sock/default/abc"), as containerd's SocketAddress computes it
        Path socket = ShimAddress.socketPath("/run/containerd/containerd.sock", "default", "abc");
        assertEquals(Path.of("/run/containerd/s/8cb244a719603fe00870d5ce1d8e1f1db43a654cb993d107df1f1ae23ddffa59"), socket);
        assertEquals("unix://" + socket, ShimAddress.uri(socket));
        assertEquals(socket, ShimAddress.pathOf(ShimAddress.uri(socket)));
    }

    @Test
    void runtimeInfoIsARuntimeInfoProtobuf() throws Exception {
        var info = com.google.protobuf.CodedInputStream.newInstance(RuntimeInfoCommand.runtimeInfo());
        assertEquals((1 << 3) | 2, info.readTag());
        assertEquals("io.containerd.kata.v2", info.readString());
        assertEquals((2 << 3) | 2, info.readTag());
        assertEquals(TaskService.VERSION, info.readString());
    }
}
