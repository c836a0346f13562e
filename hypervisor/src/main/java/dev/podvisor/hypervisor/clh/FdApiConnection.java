package dev.podvisor.hypervisor.clh;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.UnixSockets;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A connection to Cloud Hypervisor's API socket that sends file descriptors with a request, the way Kata Go
 * sends {@code vm.add-net} ({@code clh.go vmAddNetPutRequest}): one raw {@code AF_UNIX} connection, each
 * request written by ONE {@code sendmsg} with the fds as {@code SCM_RIGHTS} on its first byte, the answer read
 * on the same connection, which then carries the next request (keep-alive).
 *
 * <p>The system calls block, so every exchange runs on a platform thread (a fresh one when called from a
 * virtual thread). Not thread-safe: the owner serialises calls. The caller keeps its copies of the fds.
 */
final class FdApiConnection implements AutoCloseable {

    private final Path socket;
    private int fd = -1;

    FdApiConnection(Path socket) {
        this.socket = socket;
    }

    /**
     * Sends {@code method /api/v1/endpoint} with {@code body} and {@code fds}, and reads the answer.
     *
     * @param timeoutMs bound of the wait for the answer
     * @return the answer
     * @throws IOException on a transport error, a timeout (the connection is dropped) or a malformed answer
     */
    HttpWire.Response exchange(String method, String endpoint, byte[] body, int[] fds, long timeoutMs)
            throws IOException {
        String what = "cloud-hypervisor " + method + " " + endpoint + " on " + socket;
        byte[] request = HttpWire.request(method, endpoint, body);
        return onPlatformThread(() -> {
            boolean reused = dropIfStale();
            try {
                return once(request, fds, timeoutMs, what);
            } catch (HttpWire.ClosedWithoutAnswerException e) {
                if (!reused) {
                    throw e;
                }
                return once(request, fds, timeoutMs, what); // the VMM had closed the idle connection
            }
        });
    }

    private HttpWire.Response once(byte[] request, int[] fds, long timeoutMs, String what) throws IOException {
        boolean keep = false;
        try {
            if (fd < 0) {
                fd = connect(what);
            }
            try {
                UnixSockets.sendWithFds(fd, request, fds);
            } catch (LinuxException e) {
                throw new HttpWire.ClosedWithoutAnswerException(what + ": connection lost while sending: "
                        + e.getMessage());
            }
            long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
            HttpWire.Response response = HttpWire.readResponse((b, off, len) -> read(b, off, len, deadline, what),
                    what);
            keep = response.keepAlive();
            return response;
        } finally {
            if (!keep) {
                drop();
            }
        }
    }

    private int connect(String what) throws IOException {
        try {
            return UnixSockets.connect(socket);
        } catch (LinuxException e) {
            throw new IOException(what + ": cannot connect: " + e.getMessage(), e);
        }
    }

    private int read(byte[] b, int off, int len, long deadline, String what) throws IOException {
        long leftMs = (deadline - System.nanoTime()) / 1_000_000L;
        if (leftMs <= 0 || UnixSockets.poll(fd, UnixSockets.POLLIN, (int) Math.min(leftMs, Integer.MAX_VALUE)) == 0) {
            throw new SocketTimeoutException(what + ": no answer within the call timeout");
        }
        List<Integer> strayFds = new ArrayList<>();
        try {
            int n = UnixSockets.receiveWithFds(fd, b, off, len, strayFds);
            return n == 0 ? -1 : n;
        } catch (LinuxException e) {
            throw new IOException(what + ": " + e.getMessage(), e);
        } finally {
            strayFds.forEach(Linux::closeQuietly); // an answer carries no fds; never keep any
        }
    }

    /** Drops a kept connection the VMM has closed (readable while idle means EOF or stray bytes). */
    private boolean dropIfStale() {
        if (fd < 0) {
            return false;
        }
        if (UnixSockets.poll(fd, UnixSockets.POLLIN, 0) != 0) {
            drop();
            return false;
        }
        return true;
    }

    private void drop() {
        Linux.closeQuietly(fd);
        fd = -1;
    }

    @Override
    public void close() {
        drop();
    }

    /** Runs {@code task} on the current thread if it is a platform thread, else on a fresh one. */
    private static <T> T onPlatformThread(Callable<T> task) throws IOException {
        if (!Thread.currentThread().isVirtual()) {
            return call(task);
        }
        Object[] outcome = new Object[2];
        Thread thread = Thread.ofPlatform().name("clh-add-net").daemon(true).start(() -> {
            try {
                outcome[0] = call(task);
            } catch (Throwable t) {
                outcome[1] = t;
            }
        });
        boolean interrupted = false;
        while (true) {
            try {
                thread.join(); // the exchange is bounded by its timeout; an interrupt waits for it
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (outcome[1] instanceof IOException e) {
            throw e;
        }
        if (outcome[1] instanceof RuntimeException e) {
            throw e;
        }
        if (outcome[1] instanceof Error e) {
            throw e;
        }
        @SuppressWarnings("unchecked")
        T result = (T) outcome[0];
        return result;
    }

    private static <T> T call(Callable<T> task) throws IOException {
        try {
            return task.call();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
