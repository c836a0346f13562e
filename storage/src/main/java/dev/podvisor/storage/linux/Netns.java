package dev.podvisor.storage.linux;

import static dev.podvisor.storage.linux.Sys.errno;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Network namespaces: running code inside one, and telling two apart.
 *
 * <p>{@code setns(2)} switches only the calling OS thread, so {@link #call} runs its task on a fresh
 * <em>platform</em> thread that enters the namespace first and ends with the task; that thread is never
 * reused, so no thread of this JVM stays in a foreign namespace (what Kata Go's {@code doNetNS} achieves with
 * {@code runtime.LockOSThread}). Never call {@code setns} on a virtual thread: its carrier would keep the
 * namespace.
 */
public final class Netns {

    /** {@code CLONE_NEWNET} (linux/sched.h). */
    public static final int CLONE_NEWNET = 0x40000000;

    private static final AtomicInteger THREADS = new AtomicInteger();

    private Netns() {
    }

    /**
     * The identity of a namespace file: device and inode of the nsfs inode it resolves to ({@code stat(2)},
     * following symlinks such as {@code /proc/self/ns/net}). Two paths name the same namespace exactly when
     * their ids are equal (how Kata Go's {@code hostNetworkingRequested} compares them).
     *
     * @param dev {@code st_dev}
     * @param ino {@code st_ino}
     */
    public record NsId(long dev, long ino) {
    }

    /**
     * {@code stat(2)} of {@code nsPath} (a bind-mounted namespace such as {@code /var/run/netns/x} or a
     * {@code /proc/<pid>/ns/net} link, which is followed).
     *
     * @throws UncheckedIOException naming the path when it cannot be read (e.g. it does not exist)
     */
    public static NsId id(Path nsPath) {
        try {
            long dev = ((Number) Files.getAttribute(nsPath, "unix:dev")).longValue();
            long ino = ((Number) Files.getAttribute(nsPath, "unix:ino")).longValue();
            return new NsId(dev, ino);
        } catch (IOException e) {
            throw new UncheckedIOException("stat(" + nsPath + "): " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code task} on a new platform thread that first did {@code setns(open(netnsPath), CLONE_NEWNET)},
     * waits for it and returns its result. The thread ends with the task (never pooled). Whatever the task
     * does that depends on the thread's network namespace (opening {@code /dev/net/tun}, sockets) happens in
     * {@code netnsPath}'s namespace; child processes it starts inherit it too.
     *
     * <p>An interrupt of the caller does not abandon the task: the call still waits for it, then restores the
     * interrupt flag.
     *
     * @param netnsPath a network namespace file, e.g. {@code /var/run/netns/cni-1234} or
     *                  {@code /proc/<pid>/ns/net}
     * @return what {@code task} returned
     * @throws LinuxException {@code open(path)} or {@code setns(path, CLONE_NEWNET)} failures (e.g.
     *                        {@code EINVAL} when the file is not a network namespace); the task does not run
     * @throws Exception      whatever {@code task} threw, unwrapped
     */
    public static <T> T call(Path netnsPath, Callable<T> task) throws Exception {
        Object[] outcome = new Object[2]; // [0] result, [1] Throwable
        Thread thread = Thread.ofPlatform()
                .name("netns-" + THREADS.incrementAndGet())
                .daemon(true)
                .unstarted(() -> {
                    try {
                        enter(netnsPath);
                        outcome[0] = task.call();
                    } catch (Throwable t) {
                        outcome[1] = t;
                    }
                });
        thread.start();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        Throwable failure = (Throwable) outcome[1];
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
        @SuppressWarnings("unchecked")
        T result = (T) outcome[0];
        return result;
    }

    /** Moves the calling thread into {@code netnsPath}'s network namespace. */
    private static void enter(Path netnsPath) {
        int fd = Linux.open(netnsPath.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        try {
            Sys.run((arena, st) -> {
                if ((int) Sys.syscall(st, Syscall.SETNS, fd, CLONE_NEWNET, 0, 0, 0, 0) != 0) {
                    throw new LinuxException("setns", netnsPath + ", CLONE_NEWNET", errno(st));
                }
                return null;
            });
        } finally {
            Linux.closeQuietly(fd);
        }
    }
}
