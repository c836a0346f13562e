package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.storage.linux.LinuxException;
import dev.podvisor.storage.linux.UnixSockets;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The input side of one API connection, read with {@code recvmsg(2)} so that file descriptors passed with
 * {@code SCM_RIGHTS} are received on every read (Cloud Hypervisor's micro_http collects them per request;
 * Kata Go sends each {@code vm.add-net} as one {@code sendmsg} with the tap fd attached to its first byte).
 * Each batch of fds is remembered with the stream offset of the first byte that came with it, so the
 * connection can hand a request exactly the fds that arrived with its bytes ({@link #takeFds}).
 *
 * <p>Buffered; blocking reads on a platform thread. Fds never handed out are closed by {@link #closeFds}.
 */
final class ApiInput extends InputStream {
    private record Batch(long offset, List<Integer> fds) {
    }

    private final int fd;
    private final byte[] buf = new byte[64 * 1024];
    private final Deque<Batch> batches = new ArrayDeque<>();
    private int pos;
    private int lim;
    private long consumedBefore;
    private boolean eof;

    /** @param fd a connected stream socket (not owned: the connection closes it) */
    ApiInput(int fd) {
        this.fd = fd;
    }

    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        consumedBefore += lim;
        pos = 0;
        lim = 0;
        List<Integer> got = new ArrayList<>();
        int n;
        try {
            n = UnixSockets.receiveWithFds(fd, buf, 0, buf.length, got);
        } catch (LinuxException e) {
            throw new IOException(e.getMessage(), e);
        }
        if (!got.isEmpty()) {
            batches.add(new Batch(consumedBefore, got));
        }
        if (n == 0) {
            eof = true;
            return false;
        }
        lim = n;
        return true;
    }

    @Override
    public int read() throws IOException {
        if (pos == lim && !fill()) {
            return -1;
        }
        return buf[pos++] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        if (pos == lim && !fill()) {
            return -1;
        }
        int n = Math.min(len, lim - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
    }

    /** @return the number of bytes consumed from the stream so far */
    long position() {
        return consumedBefore + pos;
    }

    /**
     * @param end a stream offset (the end of a request just read)
     * @return every fd that arrived with bytes before {@code end}, in arrival order; now owned by the caller
     */
    int[] takeFds(long end) {
        List<Integer> out = new ArrayList<>();
        while (!batches.isEmpty() && batches.peekFirst().offset() < end) {
            out.addAll(batches.pollFirst().fds());
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Closes every fd received but not taken. */
    void closeFds() {
        while (!batches.isEmpty()) {
            batches.pollFirst().fds().forEach(Linux::closeQuietly);
        }
    }
}
