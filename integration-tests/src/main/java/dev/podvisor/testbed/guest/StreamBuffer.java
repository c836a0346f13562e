package dev.podvisor.testbed.guest;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The buffered output stream of one process (stdout or stderr, or the pty master with a tty), read by the
 * long-polling {@code ReadStdout}/{@code ReadStderr}. A pump thread {@link #append}s what it reads and
 * {@link #finish}es at end of file; when {@value #CAPACITY} bytes are waiting the pump blocks, like a full
 * pipe. Thread-safe.
 */
final class StreamBuffer {

    /** Bytes held before the pump blocks (1 MiB). */
    static final int CAPACITY = 1 << 20;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private int size;
    private int headOffset;
    private boolean finished;
    private boolean aborted;

    /** Appends {@code data[0, length)}, waiting while the buffer is full; drops data once aborted. */
    void append(byte[] data, int length) throws InterruptedException {
        byte[] copy = java.util.Arrays.copyOf(data, length);
        lock.lock();
        try {
            while (size >= CAPACITY && !aborted) {
                changed.await();
            }
            if (aborted) {
                return;
            }
            chunks.addLast(copy);
            size += length;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Marks end of file: readers get the rest, then {@code null}. */
    void finish() {
        lock.lock();
        try {
            finished = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Ends the stream at once (shutdown): waiting readers and writers return, buffered data is dropped. */
    void abort() {
        lock.lock();
        try {
            aborted = true;
            finished = true;
            chunks.clear();
            size = 0;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until data is available and returns at most {@code max} bytes ({@code max} ≤ 0 means all
     * waiting bytes).
     *
     * @return the bytes, or {@code null} when the stream is finished and drained
     */
    byte[] read(int max) throws InterruptedException {
        lock.lock();
        try {
            while (size == 0 && !finished) {
                changed.await(1, TimeUnit.MINUTES);
            }
            if (size == 0) {
                return null;
            }
            int want = max <= 0 ? size : Math.min(max, size);
            byte[] out = new byte[want];
            int filled = 0;
            while (filled < want) {
                byte[] head = chunks.peekFirst();
                int n = Math.min(want - filled, head.length - headOffset);
                System.arraycopy(head, headOffset, out, filled, n);
                filled += n;
                headOffset += n;
                if (headOffset == head.length) {
                    chunks.removeFirst();
                    headOffset = 0;
                }
            }
            size -= want;
            changed.signalAll();
            return out;
        } finally {
            lock.unlock();
        }
    }
}
