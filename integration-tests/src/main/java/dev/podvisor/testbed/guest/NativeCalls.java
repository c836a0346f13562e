package dev.podvisor.testbed.guest;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * The one system call the guest emulator makes itself through the FFM API (never JNI) rather than through
 * {@code dev.podvisor.storage.linux.Linux}: {@code execve(2)}, to re-enter the right mount namespace under the
 * same pid. A failure is an {@link IOException} naming the call and {@code strerror(errno)}.
 */
@SuppressWarnings("restricted")
final class NativeCalls {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
            CAPTURE.varHandle(java.lang.foreign.MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle EXECVE = handle("execve", FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
    private static final MethodHandle STRERROR = LINKER.downcallHandle(LIBC.find("strerror").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));

    private NativeCalls() {
    }

    private static MethodHandle handle(String name, FunctionDescriptor descriptor, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(extra, 0, options, 1, extra.length);
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(), descriptor, options);
    }

    /** The message of {@code strerror(errno)}. */
    static String strerror(int errno) {
        try {
            MemorySegment text = (MemorySegment) STRERROR.invokeExact(errno);
            return text.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }

    /** An {@link IOException} carrying the errno of a failed call. */
    static final class ErrnoException extends IOException {
        private final int errno;

        ErrnoException(String call, int errno) {
            super(call + ": " + strerror(errno) + " (errno " + errno + ")");
            this.errno = errno;
        }

        /** The C {@code errno}. */
        int errno() {
            return errno;
        }
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * Replaces this process image ({@code execve(2)}); returns only on failure.
     *
     * @throws IOException always, when the call fails
     */
    static void execve(String path, List<String> argv, List<String> env) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) EXECVE.invokeExact(state, arena.allocateFrom(path), strings(arena, argv),
                    strings(arena, env));
            throw new ErrnoException("execve(" + path + ") = " + rc, errno(state));
        } catch (IOException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("execve(" + path + ")", t);
        }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
        MemorySegment array = arena.allocate(ValueLayout.ADDRESS, values.size() + 1L);
        for (int i = 0; i < values.size(); i++) {
            array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(values.get(i)));
        }
        array.setAtIndex(ValueLayout.ADDRESS, values.size(), MemorySegment.NULL);
        return array;
    }
}
