package dev.podvisor.it.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A private directory with a short path, {@code /tmp/<prefix><6 hex>}, for state under which unix sockets are
 * made with long names (a CRI sandbox id alone has 64 characters; a socket path has at most 107 bytes).
 * {@link #close()} deletes it with everything below (nothing may be mounted there any more).
 */
public final class ShortDir implements AutoCloseable {

    private final Path path;

    private ShortDir(Path path) {
        this.path = path;
    }

    /**
     * @param prefix a few letters, e.g. {@code "pv"}
     * @return the new, empty directory
     * @throws UncheckedIOException when it cannot be created
     */
    public static ShortDir create(String prefix) {
        for (int attempt = 0; ; attempt++) {
            byte[] b = new byte[3];
            ThreadLocalRandom.current().nextBytes(b);
            Path p = Path.of("/tmp", prefix + HexFormat.of().formatHex(b));
            try {
                return new ShortDir(Files.createDirectory(p));
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt > 100) {
                    throw new UncheckedIOException("no free /tmp/" + prefix + "XXXXXX", taken);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + p, e);
            }
        }
    }

    /** @return the directory, e.g. {@code /tmp/pv1a2b3c} */
    public Path path() {
        return path;
    }

    /** Deletes the directory tree. */
    @Override
    public void close() {
        Installed.deleteTree(path);
    }
}
