package dev.podvisor.storage.directvolume;

import dev.podvisor.storage.plan.PlanException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectVolumeStoreTest {

    @TempDir
    Path dir;

    @Test
    void addWritesKatasLayoutAndModesAndRemoveTakesItAll() throws IOException {
        Path image = Files.writeString(dir.resolve("disk.img"), "x");
        Path root = dir.resolve("root/direct-volumes");
        DirectVolumeStore store = new DirectVolumeStore(root);
        String json = "{\"volume-type\":\"directvol\",\"device\":\"" + image + "\",\"fstype\":\"ext4\"}";
        store.add("/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv/mount", json);

        // Go base64.URLEncoding (padded) of the volume path
        Path record = root.resolve("L3Zhci9saWIva3ViZWxldC9wb2RzL3Avdm9sdW1lcy9rdWJlcm5ldGVzLmlvfmNzaS9wdi9tb3VudA==");
        assertEquals(record, store.directory("/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv/mount"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record.resolve("mountInfo.json"))));
        assertEquals(json, Files.readString(record.resolve("mountInfo.json")));

        String volume = "/var/lib/kubelet/pods/p/volumes/kubernetes.io~csi/pv/mount";
        IllegalStateException none = assertThrows(IllegalStateException.class, () -> store.sandboxId(volume));
        assertEquals("no sandbox found for " + volume, none.getMessage());
        store.recordSandbox("sandbox-1", volume);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record.resolve("sandbox-1"))));
        assertEquals("sandbox-1", store.sandboxId(volume));
        assertEquals(image.toString(), store.info(volume).orElseThrow().device());

        store.remove(volume);
        assertFalse(Files.exists(record));
        store.remove(volume); // absent is fine, as os.RemoveAll
    }

    @Test
    void badRecordsAreRefusedByKeyAndWriteNothing() throws IOException {
        Path image = Files.writeString(dir.resolve("disk.img"), "x");
        Path socketLike = Files.createDirectories(dir.resolve("a-dir"));
        Path root = dir.resolve("dv");
        DirectVolumeStore store = new DirectVolumeStore(root);
        List<List<String>> cases = List.of(
                List.of("{\"volume-type\":\"directvol\",\"fstype\":\"ext4\"}", "key 'device': missing"),
                List.of("{\"volume-type\":\"directvol\",\"device\":\"" + image + "\",\"fstype\":\"ext4\",\"metadata\":[]}",
                        "key 'metadata': not an object of strings"),
                List.of("{\"volume-type\":7,\"device\":\"" + image + "\",\"fstype\":\"ext4\"}", "key 'volume-type': not a non-empty string"),
                List.of("{\"volume_type\":\"directvol\",\"device\":\"" + image + "\",\"fstype\":\"ext4\"}",
                        "key 'volume_type' is not valid; the key is 'volume-type'"),
                List.of("{\"volume-type\":\"directvol\",\"device\":\"/nonexistent/dev\",\"fstype\":\"ext4\"}",
                        "key 'device': '/nonexistent/dev' does not exist"),
                List.of("{\"volume-type\":\"directvol\",\"device\":\"" + socketLike + "\",\"fstype\":\"ext4\"}",
                        "is neither a block device nor a regular file"),
                List.of("{\"volume-type\":\"spdkvol\",\"device\":\"spdk://" + image + "\",\"fstype\":\"ext4\"}",
                        "is not a unix socket"),
                List.of("{\"volume-type\":\"bloc\",\"device\":\"" + image + "\",\"fstype\":\"ext4\"}",
                        "key 'volume-type': 'bloc'"),
                List.of("{\"volume-type\":\"directvol\",\"device\":\"" + image + "\"}", "key 'fstype': missing"),
                List.of("not json", "not JSON"));
        for (List<String> c : cases) {
            PlanException e = assertThrows(PlanException.class, () -> store.add("/v", c.get(0)), c.get(0));
            assertTrue(e.getMessage().contains(c.get(1)), e.getMessage());
            assertTrue(e.getMessage().startsWith("mountInfo.json of direct volume /v: "), e.getMessage());
        }
        assertFalse(Files.exists(root), "nothing written");
    }
}
