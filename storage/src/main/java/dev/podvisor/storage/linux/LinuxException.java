package dev.podvisor.storage.linux;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;

/**
 * A failed Linux system call. The message names the call, its main argument (usually a path) and the
 * error, the way the C library reports it:
 * {@code mount(/a → /b, type overlay): EINVAL (Invalid argument)}.
 *
 * <p>{@link #errno()} lets callers branch on a specific error (compare with the {@code E*} constants of
 * {@link Linux}).
 */
public final class LinuxException extends UncheckedIOException {

    private static final long serialVersionUID = 1L;

    private final String call;
    private final String argument;
    private final int errno;

    /**
     * @param call     the system call or library function, e.g. {@code mount}
     * @param argument what it was called on, e.g. {@code /a → /b, type overlay}; may be empty
     * @param errno    the {@code errno} value it failed with
     */
    public LinuxException(String call, String argument, int errno) {
        super(new IOException(format(call, argument, errno)));
        this.call = call;
        this.argument = argument == null ? "" : argument;
        this.errno = errno;
    }

    /** The failed call, e.g. {@code mount}. */
    public String call() {
        return call;
    }

    /** The argument named in the message (a path, a device, an fd), possibly empty. */
    public String argument() {
        return argument;
    }

    /** The {@code errno} value, e.g. {@link Linux#EINVAL}. */
    public int errno() {
        return errno;
    }

    /** The symbolic name of {@link #errno()}, e.g. {@code EINVAL}, or {@code errno N} when unknown. */
    public String errnoName() {
        return errnoName(errno);
    }

    @Override
    public String getMessage() {
        return getCause().getMessage();
    }

    static String format(String call, String argument, int errno) {
        return call + "(" + (argument == null ? "" : argument) + "): " + errnoName(errno) + " (" + strerror(errno) + ")";
    }

    /** The symbolic name of an errno value ({@code strerrorname_np}), or {@code errno N}. */
    static String errnoName(int errno) {
        if (Sys.STRERRORNAME_NP != null) {
            try {
                MemorySegment name = (MemorySegment) Sys.STRERRORNAME_NP.handle().invokeExact(errno);
                if (!name.equals(MemorySegment.NULL)) {
                    return name.getString(0);
                }
            } catch (Throwable ignored) {
                // fall through to the number
            }
        }
        return "errno " + errno;
    }

    /** The C library's text for an errno value ({@code strerror}). */
    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) Sys.STRERROR.handle().invokeExact(errno);
            return text.equals(MemorySegment.NULL) ? "Unknown error " + errno : text.getString(0);
        } catch (Throwable t) {
            return "Unknown error " + errno;
        }
    }
}
