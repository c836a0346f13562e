package dev.podvisor.shim.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectVolumeCommandTest {

    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) throws Exception {
        Path config = dir.resolve("configuration.toml");
        if (!Files.exists(config)) {
            Files.writeString(config, "[podvisor]\ndirect_volumes_root = \"" + dir.resolve("dv")
                    + "\"\nmanagement_dir = \"" + dir.resolve("sbs") + "\"\n");
        }
        List<String> all = new java.util.ArrayList<>(List.of("direct-volume"));
        all.addAll(List.of(args));
        all.addAll(List.of("--config", config.toString()));
        return PodvisorCli.run(all, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void addAndRemoveWithKatasFlagsInBothSpellings() throws Exception {
        Path image = Files.writeString(dir.resolve("disk.img"), "x");
        assertEquals(0, run("add", "--volume-path", "/vol", "--mount-info=" + "{\"volume-type\":\"directvol\",\"device\":\""
                + image + "\",\"fstype\":\"ext4\"}"), err.toString());
        Path record = dir.resolve("dv/L3ZvbA==/mountInfo.json");
        assertTrue(Files.isRegularFile(record));
        assertEquals(0, run("remove", "--volume-path=/vol"), err.toString());
        assertFalse(Files.exists(record.getParent()));
    }

    @Test
    void badUsageIsExitTwoAndARefusedRecordExitOne() throws Exception {
        assertEquals(2, run("add", "--volume-path", "/vol"));
        assertTrue(err.toString().contains("--mount-info: missing"), err.toString());
        assertEquals(2, run("resize", "--volume-path", "/vol", "--size", "0"));
        assertTrue(err.toString().contains("--size '0': not a positive number of bytes"), err.toString());
        assertEquals(2, run("grow", "--volume-path", "/vol"));
        assertTrue(err.toString().contains("unknown sub-command 'grow'"), err.toString());
        assertEquals(1, run("add", "--volume-path", "/vol", "--mount-info", "{\"volume_type\":\"directvol\"}"));
        assertTrue(err.toString().contains("key 'volume_type' is not valid"), err.toString());
    }

    @Test
    void statsWithoutASandboxSaysSo() throws Exception {
        Path image = Files.writeString(dir.resolve("disk.img"), "x");
        assertEquals(0, run("add", "--volume-path", "/vol", "--mount-info", "{\"volume-type\":\"directvol\",\"device\":\""
                + image + "\",\"fstype\":\"ext4\"}"));
        assertEquals(1, run("stats", "--volume-path", "/vol"));
        assertTrue(err.toString().contains("no sandbox found for /vol"), err.toString());
        Files.writeString(dir.resolve("dv/L3ZvbA==/sid"), "");
        assertEquals(1, run("stats", "--volume-path", "/vol"));
        assertTrue(err.toString().contains("sandbox sid of /vol: no management socket " + dir.resolve("sbs/sid/shim-monitor.sock")),
                err.toString());
    }
}
