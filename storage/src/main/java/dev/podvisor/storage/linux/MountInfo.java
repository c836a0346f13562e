package dev.podvisor.storage.linux;

import dev.podvisor.storage.host.MountInfoEntry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parser for {@code /proc/<pid>/mountinfo} (proc(5)). A line reads
 * {@code 36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue}: mount id, parent
 * id, {@code major:minor}, root, mount point, mount options, zero or more optional fields ended by a lone
 * {@code -}, filesystem type, source, super options. The kernel escapes space, tab, newline and backslash in
 * root, mount point and source as {@code \040}, {@code \011}, {@code \012}, {@code \134}; these are decoded
 * (as are any other three-digit octal escapes), and the bytes read as UTF-8.
 */
public final class MountInfo {

    private MountInfo() {
    }

    /** The mount table of this process. */
    public static final Path SELF = Path.of("/proc/self/mountinfo");

    /**
     * Parses mountinfo text; blank lines are skipped.
     *
     * @return the entries in file order
     * @throws IllegalArgumentException naming the line number and the line when a line is malformed
     */
    public static List<MountInfoEntry> parse(String text) {
        List<MountInfoEntry> entries = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            try {
                entries.add(parseLine(line));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("mountinfo line " + (i + 1) + ": " + e.getMessage()
                        + ": '" + line + "'", e);
            }
        }
        return List.copyOf(entries);
    }

    /**
     * Reads and parses {@code /proc/self/mountinfo}.
     *
     * @throws UncheckedIOException when it cannot be read
     */
    public static List<MountInfoEntry> read() {
        try {
            return parse(Files.readString(SELF, StandardCharsets.ISO_8859_1)
                    .transform(MountInfo::latin1ToUtf8));
        } catch (IOException e) {
            throw new UncheckedIOException("read " + SELF + ": " + e.getMessage(), e);
        }
    }

    /** Re-reads ISO-8859-1 decoded text (one char per byte) as UTF-8, so no byte is lost on malformed names. */
    private static String latin1ToUtf8(String s) {
        return new String(s.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
    }

    private static MountInfoEntry parseLine(String line) {
        String[] f = line.split(" ", -1);
        if (f.length < 10) {
            throw new IllegalArgumentException("expected at least 10 fields, found " + f.length);
        }
        int separator = -1;
        for (int i = 6; i < f.length; i++) {
            if (f[i].equals("-")) {
                separator = i;
                break;
            }
        }
        if (separator < 0) {
            throw new IllegalArgumentException("no '-' separator after the optional fields");
        }
        if (f.length - separator != 4) {
            throw new IllegalArgumentException("expected 3 fields after '-', found " + (f.length - separator - 1));
        }
        int colon = f[2].indexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("major:minor: not 'N:N': " + f[2]);
        }
        return new MountInfoEntry(
                number("mount id", f[0]),
                number("parent id", f[1]),
                number("major", f[2].substring(0, colon)),
                number("minor", f[2].substring(colon + 1)),
                unescape(f[3]),
                unescape(f[4]),
                options(f[5]),
                List.of(Arrays.copyOfRange(f, 6, separator)),
                unescape(f[separator + 1]),
                unescape(f[separator + 2]),
                options(f[separator + 3]));
    }

    private static int number(String what, String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + ": not a number: '" + s + "'");
        }
    }

    private static List<String> options(String s) {
        if (s.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String o : s.split(",")) {
            out.add(unescape(o));
        }
        return out;
    }

    /** Decodes the kernel's {@code \ooo} octal escapes; other characters pass through. */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < bytes.length; i++) {
            byte b = bytes[i];
            if (b == '\\' && i + 3 < bytes.length && isOctal(bytes[i + 1]) && isOctal(bytes[i + 2])
                    && isOctal(bytes[i + 3])) {
                out.write(((bytes[i + 1] - '0') << 6) | ((bytes[i + 2] - '0') << 3) | (bytes[i + 3] - '0'));
                i += 3;
            } else {
                out.write(b);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static boolean isOctal(byte b) {
        return b >= '0' && b <= '7';
    }
}
