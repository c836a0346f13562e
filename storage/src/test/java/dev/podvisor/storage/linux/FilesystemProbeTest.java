package dev.podvisor.storage.linux;

import dev.podvisor.storage.host.FsProbe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FilesystemProbe} on real images made by {@code mkfs.ext4} (e2fsprogs, a setup dependency). */
class FilesystemProbeTest {

    @Test
    void ext4ImageBlankFileAndDataAreTold(@TempDir Path dir) throws Exception {
        Path image = dir.resolve("ext4.img");
        try (var f = new java.io.RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(8 << 20);
        }
        assertEquals(FsProbe.BLANK, FilesystemProbe.probe(image), "a sparse new file is blank");
        Process mkfs = new ProcessBuilder(List.of("mkfs.ext4", "-q", "-F", image.toString()))
                .redirectErrorStream(true).start();
        assertEquals(0, mkfs.waitFor(), new String(mkfs.getInputStream().readAllBytes()));
        FsProbe ext = FilesystemProbe.probe(image);
        assertTrue(ext.holds("ext4") && ext.holds("ext3"), ext.toString());
        assertFalse(ext.holds("xfs"));

        Path data = Files.writeString(dir.resolve("notes.txt"), "someone's data");
        assertEquals(FsProbe.UNKNOWN_DATA, FilesystemProbe.probe(data));
    }

    @Test
    void magicNumbersAtBlkidOffsets() {
        byte[] xfs = new byte[FilesystemProbe.PROBE_BYTES];
        System.arraycopy("XFSB".getBytes(), 0, xfs, 0, 4);
        assertTrue(FilesystemProbe.probe(xfs).holds("xfs"));
        byte[] btrfs = new byte[FilesystemProbe.PROBE_BYTES];
        System.arraycopy("_BHRfS_M".getBytes(), 0, btrfs, 65_600, 8);
        assertTrue(FilesystemProbe.probe(btrfs).holds("btrfs"));
    }
}
