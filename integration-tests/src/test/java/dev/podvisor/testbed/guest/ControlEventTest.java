package dev.podvisor.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Control-socket lines, mount option parsing and PCI path lookup. */
class ControlEventTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void parsesTheContractEvents() {
        ControlEvent boot = ControlEvent.parse(JSON, "{\"event\":\"boot\",\"fs\":[{\"tag\":\"kataShared\","
                + "\"sharedDir\":\"/s\"}],\"disks\":[{\"id\":\"_disk0\",\"bdf\":\"0000:00:03.0\",\"path\":\"/d.img\","
                + "\"readonly\":true}],\"log\":\"/vm/testbed.jsonl\"}");
        assertEquals(new ControlEvent.Boot(List.of(new Devices.Fs(null, "kataShared", "/s")),
                List.of(new Devices.Disk("_disk0", "0000:00:03.0", "/d.img", true)), "/vm/testbed.jsonl"), boot);
        assertEquals(new ControlEvent.AddDisk(new Devices.Disk("_disk1", "0000:00:04.0", null, false)),
                ControlEvent.parse(JSON, "{\"event\":\"add-disk\",\"id\":\"_disk1\",\"bdf\":\"0000:00:04.0\","
                        + "\"path\":null,\"readonly\":false}"));
        assertEquals(new ControlEvent.AddFs(new Devices.Fs("_fs2", "extra", "/e")), ControlEvent.parse(JSON,
                "{\"event\":\"add-fs\",\"id\":\"_fs2\",\"tag\":\"extra\",\"sharedDir\":\"/e\"}"));
        assertEquals(new ControlEvent.RemoveDevice("_disk1"),
                ControlEvent.parse(JSON, "{\"event\":\"remove-device\",\"id\":\"_disk1\"}"));
        assertEquals(new ControlEvent.Shutdown(), ControlEvent.parse(JSON, "{\"event\":\"shutdown\"}"));
    }

    @Test
    void badLinesNameTheKey() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> ControlEvent.parse(JSON, "{\"event\":\"reboot\"}"));
        assertTrue(unknown.getMessage().contains("'event'") && unknown.getMessage().contains("reboot"));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> ControlEvent.parse(JSON, "{\"event\":\"add-fs\",\"tag\":\"t\"}"));
        assertTrue(missing.getMessage().contains("'sharedDir'"), missing.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ControlEvent.parse(JSON, "not json"));
    }

    @Test
    void mountOptionsSplitIntoFlagsAndData() {
        MountOptions options = MountOptions.parse(List.of("ro", "nodev", "size=64m", "defaults", "mode=1777"));
        assertEquals(MountOptions.MS_RDONLY | MountOptions.MS_NODEV, options.flags());
        assertEquals("size=64m,mode=1777", options.data());
        assertEquals(0, MountOptions.parse(List.of("ro", "rw")).flags());
        assertEquals(MountOptions.MS_BIND | MountOptions.MS_REC, MountOptions.parse(List.of("rbind")).flags());
        assertEquals(null, MountOptions.parse(List.of()).data());
    }

    @Test
    void pciPathsResolveOnTheRootBusOnly() throws Exception {
        Devices devices = new Devices();
        Devices.Disk disk = new Devices.Disk("_disk0", "0000:00:0a.0", "/d.img", false);
        devices.addDisk(disk);
        assertEquals(Optional.of(disk), devices.diskByPciPath("0a"));
        assertEquals(Optional.of(disk), devices.diskByPciPath("0A"));
        assertEquals(Optional.empty(), devices.diskByPciPath("02/0a"));
        assertEquals(Optional.empty(), devices.awaitDiskByPciPath("0b", Duration.ofMillis(1)));
        assertTrue(devices.remove("_disk0"));
        devices.addFs(new Devices.Fs("_fs1", "kataShared", "/s"));
        assertTrue(devices.remove("_fs1"));
        assertEquals(Optional.empty(), devices.fsByTag("kataShared"));
        assertEquals(Optional.empty(), devices.diskByPciPath("0a"));
    }
}
