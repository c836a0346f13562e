package dev.podvisor.sandbox.config;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Kata's "is this path allowed" check for annotation-supplied paths ({@code valid_hypervisor_paths},
 * {@code valid_virtio_fs_daemon_paths}): Go's {@code checkPathIsInGlobs} (src/runtime/pkg/oci/utils.go) expands each
 * glob with {@code filepath.Glob} and compares the annotation value with the results. So a value is allowed when it
 * matches one glob under Go's {@code filepath.Match} rules ({@code *} and {@code ?} never cross {@code /},
 * {@code [...]} classes with {@code ^} negation and ranges, backslash escapes) <em>and</em> exists on the host
 * (lstat, symlinks not followed). An empty list allows nothing.
 */
final class PathGlobs {
    private PathGlobs() {
    }

    /**
     * @param globs the glob list from the configuration file
     * @param path  the path taken from an annotation
     * @return true when some glob matches {@code path} and the path exists
     */
    static boolean allowed(List<String> globs, String path) {
        for (String glob : globs) {
            if (matches(glob, path)) {
                try {
                    return Files.exists(Path.of(path), LinkOption.NOFOLLOW_LINKS);
                } catch (RuntimeException e) {
                    return false;
                }
            }
        }
        return false;
    }

    /**
     * Go {@code filepath.Match} semantics. A malformed pattern matches nothing, as in Go where the error is ignored.
     *
     * @param glob the pattern
     * @param name the whole path to test
     * @return whether the whole of {@code name} matches
     */
    static boolean matches(String glob, String name) {
        Pattern p = toRegex(glob);
        return p != null && p.matcher(name).matches();
    }

    private static Pattern toRegex(String glob) {
        StringBuilder re = new StringBuilder();
        int i = 0;
        int n = glob.length();
        while (i < n) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> re.append("[^/]*");
                case '?' -> re.append("[^/]");
                case '\\' -> {
                    if (i + 1 >= n) {
                        return null;
                    }
                    re.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
                }
                case '[' -> {
                    int j = i + 1;
                    boolean negate = j < n && glob.charAt(j) == '^';
                    if (negate) {
                        j++;
                    }
                    int start = j;
                    StringBuilder items = new StringBuilder();
                    boolean closed = false;
                    while (j < n) {
                        char d = glob.charAt(j);
                        if (d == ']' && j > start) {
                            closed = true;
                            break;
                        }
                        if (d == '\\') {
                            if (j + 1 >= n) {
                                return null;
                            }
                            items.append(escapeClassChar(glob.charAt(j + 1)));
                            j += 2;
                            continue;
                        }
                        if (d == '-' && j > start && j + 1 < n && glob.charAt(j + 1) != ']') {
                            items.append('-');
                        } else {
                            items.append(escapeClassChar(d));
                        }
                        j++;
                    }
                    if (!closed) {
                        return null;
                    }
                    re.append("(?!/)").append(negate ? "[^" : "[").append(items).append(']');
                    i = j;
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
            i++;
        }
        try {
            return Pattern.compile(re.toString());
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String escapeClassChar(char d) {
        return switch (d) {
            case '\\', '[', ']', '^', '-', '&' -> "\\" + d;
            default -> String.valueOf(d);
        };
    }
}
