package dev.podvisor.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.sandbox.network.HostNetwork;
import dev.podvisor.storage.exec.ExecutionRecord;
import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * sandbox.json stays the file the former ObjectMapper code wrote (the expected texts in
 * {@code src/test/resources/dev/podvisor/sandbox/sandbox-state-*.json} were captured from it, {@code @VMDIR@} standing
 * for the state directory), so a {@code delete} of either build reads the other's, and it reads back losslessly.
 */
class SandboxStateFormatTest {

    @TempDir
    Path dir;

    @Test
    void aRichStateIsWrittenByteForByteAsBeforeAndReadsBackEqual() throws Exception {
        SandboxState rich = SandboxStateFixtures.rich(dir.toString(), ExecutionRecord::toJson);
        rich.save();
        assertEquals(expected("sandbox-state-rich.json"), Files.readString(dir.resolve(SandboxState.FILE)));
        SandboxState loaded = SandboxState.load(dir).orElseThrow();
        assertEquals(rich, loaded);
        assertEquals(List.of("c-one", "c-two", "c-three"), List.copyOf(loaded.containers().keySet()));
        assertEquals(rich.podSetup(), loaded.podSetup());
        assertEquals(rich.containers().get("c-one").hostSetup(), loaded.containers().get("c-one").hostSetup());
        assertEquals(SandboxStateFixtures.everyStep("c-one"),
                ExecutionRecord.fromJson(loaded.containers().get("c-one").hostSetup()));
        assertEquals(SandboxStateFixtures.podRecord(), ExecutionRecord.fromJson(loaded.podSetup()));
    }

    @Test
    void theInitialStateIsWrittenAsBeforeAndReadsBackEqual() throws Exception {
        SandboxState initial = SandboxStateFixtures.initial(dir.toString());
        initial.save();
        assertEquals(expected("sandbox-state-initial.json"), Files.readString(dir.resolve(SandboxState.FILE)));
        assertEquals(initial, SandboxState.load(dir).orElseThrow());
    }

    @Test
    void anOlderFileWithoutTheOptionalKeysAndInAnotherOrderReads() throws Exception {
        Files.writeString(dir.resolve(SandboxState.FILE), """
                {"containers": {"c1": {"hostSetup": {"sandboxId": "sb", "containerId": "c1", "steps": []},
                                       "bundle": "/b/c1"},
                                "c0": {"bundle": "/b/c0"}},
                 "vmmPid": 12, "shareRoot": "/s/sb", "virtiofsdPids": [13], "vmDir": "%s", "sandboxId": "sb"}
                """.formatted(dir));
        SandboxState loaded = SandboxState.load(dir).orElseThrow();
        assertEquals(new SandboxState("sb", dir.toString(), "/s/sb", 12, List.of(13L), Map.of(
                "c1", new SandboxState.ContainerState("/b/c1", JsonTrees.parse(
                        "{\"sandboxId\": \"sb\", \"containerId\": \"c1\", \"steps\": []}")),
                "c0", new SandboxState.ContainerState("/b/c0", null))), loaded);
        assertEquals(List.of("c1", "c0"), List.copyOf(loaded.containers().keySet()));
        assertNull(loaded.podSetup());
        assertNull(loaded.network());
        assertEquals(List.of(), loaded.cgroups());
    }

    @Test
    void noFileIsNoState() {
        assertTrue(SandboxState.load(dir).isEmpty());
    }

    @Test
    void badContentIsNamedWithTheFileTheFieldAndTheValue() throws Exception {
        Path file = dir.resolve(SandboxState.FILE);
        assertLoadFails("{\"sandboxId\":\"sb\",\"vmDir\":\"/v\",\"shareRoot\":\"/s\",\"vmmPid\":\"12\","
                + "\"virtiofsdPids\":[],\"containers\":{}}", file + ": vmmPid: expected an integer, got \"12\"");
        assertLoadFails("{\"sandboxId\":\"sb\",\"vmDir\":\"/v\",\"shareRoot\":\"/s\",\"vmmPid\":12,"
                + "\"virtiofsdPids\":[],\"containers\":{\"c1\":{\"hostSetup\":null}}}", file + ": containers.c1.bundle: missing");
        assertLoadFails("{\"sandboxId\":\"sb\",\"vmDir\":\"/v\",\"shareRoot\":\"/s\",\"vmmPid\":12,"
                + "\"virtiofsdPids\":[7, 1.5],\"containers\":{}}", file + ": virtiofsdPids[1]: expected an integer, got 1.5");
        assertLoadFails("{\"sandboxId\":\"sb\",\"vmDir\":\"/v\",\"shareRoot\":\"/s\",\"vmmPid\":12,\"virtiofsdPids\":[],"
                + "\"containers\":{},\"network\":{\"netns\":\"/n\",\"nics\":[{\"veth\":\"eth0\",\"tap\":\"t\","
                + "\"tapCreated\":1,\"vethQdisc\":true}]}}", file + ": network.nics[0].tapCreated: expected true or false, got 1");
        assertLoadFails("", file + ": document: expected an object, got nothing");
        Files.writeString(file, "{\"sandboxId\":");
        var truncated = assertThrows(UncheckedIOException.class, () -> SandboxState.load(dir));
        assertTrue(truncated.getMessage().startsWith("reading sandbox state " + file + ": "), truncated.getMessage());
    }

    @Test
    void theNetworkWiringReadsBackFromItsJson() throws Exception {
        HostNetwork wired = HostNetwork.empty("/var/run/netns/n").with(new HostNetwork.Nic("eth0", "tap0", true, false));
        assertEquals(wired, HostNetwork.fromJson(JsonTrees.parse(JsonTrees.toBytes(wired.toJson())), "network"));
    }

    private void assertLoadFails(String content, String message) throws IOException {
        Files.writeString(dir.resolve(SandboxState.FILE), content);
        var e = assertThrows(UncheckedIOException.class, () -> SandboxState.load(dir));
        assertEquals("reading sandbox state " + message, e.getMessage());
    }

    private String expected(String name) throws IOException {
        try (InputStream in = SandboxStateFormatTest.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("@VMDIR@", dir.toString());
        }
    }
}
