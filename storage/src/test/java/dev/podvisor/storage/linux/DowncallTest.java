package dev.podvisor.storage.linux;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link Downcall}: linked on first use, once, and a missing libc function fails only when it is used. */
class DowncallTest {

    @Test
    void aFunctionLibcDoesNotHaveFailsWhenFirstUsedNamingIt() {
        Downcall missing = Sys.plainCall("podvisor_no_such_function", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        UnsatisfiedLinkError error = assertThrows(UnsatisfiedLinkError.class, missing::handle);
        assertEquals("libc symbol not found: podvisor_no_such_function", error.getMessage());
    }

    @Test
    void threadsRacingForTheFirstUseGetOneHandleThatCallsLibc() throws Exception {
        Downcall getppid = Sys.plainCall("getppid", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        Set<MethodHandle> seen = ConcurrentHashMap.newKeySet();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            threads.add(Thread.ofPlatform().start(() -> seen.add(getppid.handle())));
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertEquals(1, seen.size(), "linked once");
        assertSame(seen.iterator().next(), getppid.handle());
        try {
            int parent = (int) getppid.handle().invokeExact();
            assertEquals(ProcessHandle.current().parent().orElseThrow().pid(), parent);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
        assertTrue(getppid.name().equals("getppid"));
    }
}
