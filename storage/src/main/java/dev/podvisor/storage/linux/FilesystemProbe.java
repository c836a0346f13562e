package dev.podvisor.storage.linux;

import dev.podvisor.storage.host.FsProbe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads the superblock magic numbers of a block device or image file (the offsets {@code blkid} probes), read-only:
 * ext2/3/4 {@code 0xEF53} at 1080, XFS {@code XFSB} at 0, btrfs {@code _BHRfS_M} at 65600, FAT {@code FAT} at 54 or
 * 82, swap {@code SWAPSPACE2} at 4086. Used so that a direct volume whose {@code createFilesystem} asks the guest to
 * format never points at something holding data (issue 8, case 8).
 */
public final class FilesystemProbe {

    /** Bytes read: up to the end of the btrfs magic. */
    static final int PROBE_BYTES = 65_608;

    private FilesystemProbe() {
    }

    /**
     * @param device a block device or regular file
     * @return what it holds; a file shorter than the probe is read as far as it goes
     * @throws UncheckedIOException naming the device when it cannot be opened or read
     */
    public static FsProbe probe(Path device) {
        ByteBuffer buf = ByteBuffer.allocate(PROBE_BYTES);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read up to PROBE_BYTES
            }
        } catch (IOException e) {
            throw new UncheckedIOException("probing the file system of " + device + ": " + e.getMessage(), e);
        }
        byte[] b = new byte[buf.position()];
        buf.flip().get(b);
        return probe(b);
    }

    /** The same on bytes already read from offset 0. */
    public static FsProbe probe(byte[] b) {
        boolean blank = true;
        for (byte x : b) {
            if (x != 0) {
                blank = false;
                break;
            }
        }
        String type = "";
        if (at(b, 1080, new byte[]{0x53, (byte) 0xEF})) {
            type = "ext";
        } else if (text(b, 0, "XFSB")) {
            type = "xfs";
        } else if (text(b, 65_600, "_BHRfS_M")) {
            type = "btrfs";
        } else if (text(b, 54, "FAT") || text(b, 82, "FAT32")) {
            type = "vfat";
        } else if (text(b, 4086, "SWAPSPACE2") || text(b, 4086, "SWAP-SPACE")) {
            type = "swap";
        }
        return new FsProbe(type, blank);
    }

    private static boolean text(byte[] b, int offset, String magic) {
        return at(b, offset, magic.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean at(byte[] b, int offset, byte[] magic) {
        if (b.length < offset + magic.length) {
            return false;
        }
        for (int i = 0; i < magic.length; i++) {
            if (b[offset + i] != magic[i]) {
                return false;
            }
        }
        return true;
    }
}
