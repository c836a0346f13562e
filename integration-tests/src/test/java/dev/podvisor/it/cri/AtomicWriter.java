package dev.podvisor.it.cri;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * kubelet's atomic writer (Kubernetes {@code pkg/volume/util/atomic_writer.go}) for secret, configMap and
 * projected volumes. The layout of a volume directory after a write:
 *
 * <pre>
 * ..2026_12_01_22_45_00.123456789/   the payload, one file per key (mode 0644), dir mode 0755
 * ..data -> ..2026_12_01_22_45_00.123456789
 * key    -> ..data/key               one per key
 * </pre>
 *
 * An update writes a new timestamped directory, points {@code ..data_tmp} at it, renames {@code ..data_tmp} over
 * {@code ..data} (the atomic step), adds and removes the per-key links, then deletes the old directory.
 */
public final class AtomicWriter {

    private static final String DATA = "..data";
    private static final String DATA_TMP = "..data_tmp";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyy_MM_dd_HH_mm_ss.");

    private AtomicWriter() {
    }

    /**
     * Writes (first time) or replaces (update) the payload of {@code dir}.
     *
     * @param dir   the volume directory (exists)
     * @param items file name (no slash) to UTF-8 content
     * @throws UncheckedIOException when a file operation fails
     * @throws IllegalArgumentException when a key holds a slash or starts with {@code ..}
     */
    public static void write(Path dir, Map<String, String> items) {
        for (String key : items.keySet()) {
            if (key.contains("/") || key.startsWith("..") || key.isEmpty()) {
                throw new IllegalArgumentException("item key '" + key + "': must be a plain file name");
            }
        }
        try {
            Path data = dir.resolve(DATA);
            Path old = Files.isSymbolicLink(data) ? dir.resolve(Files.readSymbolicLink(data)) : null;
            Path stamped = dir.resolve(".." + ZonedDateTime.now(ZoneOffset.UTC).format(STAMP)
                    + ThreadLocalRandom.current().nextLong(100_000_000L, 1_000_000_000L));
            Files.createDirectory(stamped, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            for (var item : items.entrySet()) {
                Path file = stamped.resolve(item.getKey());
                Files.writeString(file, item.getValue());
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Path tmp = dir.resolve(DATA_TMP);
            Files.deleteIfExists(tmp);
            Files.createSymbolicLink(tmp, stamped.getFileName());
            Files.move(tmp, data, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            for (String key : items.keySet()) {
                Path link = dir.resolve(key);
                if (!Files.isSymbolicLink(link)) {
                    Files.createSymbolicLink(link, Path.of(DATA, key));
                }
            }
            try (Stream<Path> entries = Files.list(dir)) {
                for (Path p : entries.toList()) {
                    String n = p.getFileName().toString();
                    if (!n.startsWith("..") && !items.containsKey(n) && Files.isSymbolicLink(p)) {
                        Files.delete(p);
                    }
                }
            }
            if (old != null && !old.equals(stamped) && Files.exists(old, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(old);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("atomic write into " + dir + " failed", e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
