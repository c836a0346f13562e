package dev.podvisor.testbed.virtiofsd;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.UnixSockets;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * The virtiofsd stand-in (run through {@code integration-tests/bin/virtiofsd}): accepts the Rust virtiofsd
 * command line ({@link VirtiofsdOptions}), or QEMU's C one when run through {@code integration-tests/bin/qemu-virtiofsd}
 * ({@link QemuVirtiofsdOptions}), checks the shared directory, and serves exactly one VMM connection
 * like the real daemon's vhost-user listener: it waits for the connection on {@code --socket-path} (an
 * existing file there is replaced first) or on the inherited listening descriptor {@code --fd}, stops
 * listening once the VMM connected (the socket file is removed then, as the real listener does on drop), and
 * exits 0 when the VMM closes the connection.
 *
 * <p>Testbed protocol on that connection (instead of vhost-user frames): each line {@code SHARED-DIR} is
 * answered with the absolute shared directory and {@code \n}; other bytes are ignored. Diagnostics go to
 * stderr in env_logger's shape ({@code [<ts> INFO  virtiofsd] ...}).
 *
 * <p>Exit codes: 0 after the VMM disconnected (or for {@code --help}/{@code --version}/
 * {@code --print-capabilities}), 2 for clap usage errors (unknown flag, bad value), 1 for other errors
 * (missing or invalid shared directory, socket cannot be bound, bad {@code -o} option).
 */
public final class VirtiofsdMain {
    private VirtiofsdMain() {
    }

    private interface Conn {
        byte[] read() throws IOException;

        void write(byte[] b) throws IOException;

        void close();
    }

    private static volatile Path socketToRemove;

    /**
     * Set to {@value #C_STYLE} by {@code integration-tests/bin/qemu-virtiofsd}: the stand-in then takes QEMU's C
     * virtiofsd command line ({@link QemuVirtiofsdOptions}), as {@code /usr/lib/qemu/virtiofsd} does.
     */
    static final String STYLE_VARIABLE = "PODVISOR_TESTBED_VIRTIOFSD_STYLE";
    static final String C_STYLE = "c";

    /**
     * Runs the stand-in.
     *
     * @param args the virtiofsd command line
     */
    public static void main(String[] args) {
        VirtiofsdOptions o;
        try {
            o = C_STYLE.equals(System.getenv(STYLE_VARIABLE)) ? QemuVirtiofsdOptions.parse(List.of(args))
                    : VirtiofsdOptions.parse(List.of(args));
        } catch (VirtiofsdOptions.UsageException e) {
            (e.exitCode() == 0 ? System.out : System.err).println(e.getMessage());
            System.exit(e.exitCode());
            return;
        }
        if (o.flags().contains("print-capabilities")) {
            System.out.println("{\n  \"type\": \"fs\",\n  \"features\": [\n    \"migrate-precopy\",\n    \"separate-options\"\n  ]\n}");
            System.exit(0);
            return;
        }
        System.exit(run(o));
    }

    /**
     * Serves one VMM connection with parsed options.
     *
     * @param o the options
     * @return the exit code
     */
    public static int run(VirtiofsdOptions o) {
        Path shared = o.sharedDir().toAbsolutePath().normalize();
        if (!Files.isDirectory(shared)) {
            error("Invalid shared directory '" + o.sharedDir() + "': "
                    + (Files.exists(shared) ? "Not a directory (os error 20)" : "No such file or directory (os error 2)"));
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            Path p = socketToRemove;
            if (p != null) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            }
        }, "virtiofsd-cleanup"));
        Conn conn;
        try {
            conn = o.socketPath() != null ? acceptOnPath(o.socketPath()) : acceptOnFd(o.fd());
        } catch (IOException e) {
            error(e.getMessage());
            return 1;
        }
        info("Client connected, servicing requests (shared dir " + shared + ", cache " + o.cache()
                + ", sandbox " + o.sandbox() + ")");
        StringBuilder line = new StringBuilder();
        try {
            while (true) {
                byte[] b = conn.read();
                if (b.length == 0) {
                    break;
                }
                for (byte x : b) {
                    if (x == '\n') {
                        if (line.toString().trim().equals("SHARED-DIR")) {
                            conn.write((shared + "\n").getBytes(StandardCharsets.UTF_8));
                        }
                        line.setLength(0);
                    } else if (line.length() < 4096) {
                        line.append((char) (x & 0xff));
                    }
                }
            }
        } catch (IOException e) {
            // the VMM went away
        } finally {
            conn.close();
        }
        info("Client disconnected, shutting down");
        return 0;
    }

    private static Conn acceptOnPath(Path socket) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            server.close();
            throw new IOException("Failed to bind vhost-user socket " + socket + ": " + e.getMessage(), e);
        }
        socketToRemove = socket;
        info("Waiting for vhost-user socket connection...");
        SocketChannel c;
        try {
            c = server.accept();
        } finally {
            server.close();
            Files.deleteIfExists(socket);
            socketToRemove = null;
        }
        return new Conn() {
            private final ByteBuffer buf = ByteBuffer.allocate(8192);

            @Override
            public byte[] read() throws IOException {
                buf.clear();
                int n = c.read(buf);
                return n <= 0 ? new byte[0] : Arrays.copyOf(buf.array(), n);
            }

            @Override
            public void write(byte[] b) throws IOException {
                ByteBuffer w = ByteBuffer.wrap(b);
                while (w.hasRemaining()) {
                    c.write(w);
                }
            }

            @Override
            public void close() {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // gone
                }
            }
        };
    }

    private static Conn acceptOnFd(int listenFd) throws IOException {
        info("Waiting for vhost-user socket connection...");
        int fd;
        try {
            fd = UnixSockets.accept(listenFd);
        } catch (LinuxException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            Linux.closeQuietly(listenFd);
        }
        return new Conn() {
            @Override
            public byte[] read() throws IOException {
                byte[] buf = new byte[8192];
                int n;
                try {
                    n = Linux.read(fd, buf, 0, buf.length);
                } catch (LinuxException e) {
                    throw new IOException(e.getMessage(), e);
                }
                return n < 0 ? new byte[0] : java.util.Arrays.copyOf(buf, n);
            }

            @Override
            public void write(byte[] b) throws IOException {
                try {
                    Linux.writeFully(fd, b, 0, b.length);
                } catch (LinuxException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }

            @Override
            public void close() {
                Linux.closeQuietly(fd);
            }
        };
    }

    private static void info(String msg) {
        System.err.println("[" + Instant.now() + " INFO  virtiofsd] " + msg);
    }

    private static void error(String msg) {
        System.err.println("[" + Instant.now() + " ERROR virtiofsd] Error: " + msg);
    }
}
