package dev.podvisor.storage.linux;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * One libc function's FFM downcall handle, linked on its first use rather than when {@link Sys} loads. Linking a
 * handle is the expensive part of FFM: JDK 25's linker spins a stub class and about ten lambda-form classes per
 * handle, about 4 ms each at a JVM's start, none of them in the AOT cache. Linking all of the package's handles
 * up front cost the shim daemon 150 ms before it served its socket and 350 classes of metadata, while a pod that
 * runs no terminal or console socket uses about a dozen of them. Thread-safe; a handle is linked at most once.
 */
final class Downcall {

    private final String name;
    private final FunctionDescriptor descriptor;
    private final Linker.Option[] options;
    private volatile MethodHandle handle;

    Downcall(String name, FunctionDescriptor descriptor, Linker.Option... options) {
        this.name = name;
        this.descriptor = descriptor;
        this.options = options;
    }

    /**
     * The linked handle, linking it now if this is the first call.
     *
     * @throws UnsatisfiedLinkError naming the function when libc does not have it
     */
    MethodHandle handle() {
        MethodHandle linked = handle;
        if (linked == null) {
            synchronized (this) {
                linked = handle;
                if (linked == null) {
                    linked = Sys.LINKER.downcallHandle(Sys.symbol(name), descriptor, options);
                    handle = linked;
                }
            }
        }
        return linked;
    }

    /** The libc function's name, e.g. {@code "mount"}. */
    String name() {
        return name;
    }
}
