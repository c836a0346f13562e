package dev.podvisor.storage.linux;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * {@code dup2(2)} on its own, for the shim's {@code start}, which must stay light: it builds one downcall handle
 * instead of the forty of {@link Sys} (each costs generated classes and CPU at a JVM start; the handover then
 * takes about 10 ms instead of 200 on this machine). The shim puts its listening socket on fd 0 with it, for the
 * daemon it spawns (Go shims pass the same socket as fd 3 through {@code ExtraFiles}).
 */
@SuppressWarnings("restricted") // an FFM downcall is this class's purpose; the JVM runs with --enable-native-access
public final class Dup2 {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle DUP2 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("dup2").orElseThrow(() -> new UnsatisfiedLinkError("libc symbol not found: dup2")),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
            Linker.Option.captureCallState("errno"));

    private Dup2() {
    }

    /**
     * {@code dup2(2)}: makes {@code newFd} refer to {@code oldFd}'s open file description, closing what
     * {@code newFd} was first; the new fd is not close-on-exec, so a child process inherits it.
     *
     * @return {@code newFd}
     * @throws LinuxException e.g. {@code dup2(fd 9 → 0): EBADF (Bad file descriptor)} when {@code oldFd} is not open
     */
    public static int dup2(int oldFd, int newFd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int r;
            do {
                r = (int) DUP2.invokeExact(state, oldFd, newFd);
            } while (r < 0 && (int) ERRNO.get(state, 0L) == Linux.EINTR);
            if (r < 0) {
                throw new LinuxException("dup2", "fd " + oldFd + " → " + newFd, (int) ERRNO.get(state, 0L));
            }
            return r;
        } catch (LinuxException | Error e) {
            throw e;
        } catch (Throwable e) {
            throw new IllegalStateException("dup2: " + e, e);
        }
    }
}
