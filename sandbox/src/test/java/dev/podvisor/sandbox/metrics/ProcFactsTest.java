package dev.podvisor.sandbox.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProcFactsTest {

    /** Writes a fake {@code /proc/<pid>} with status, stat, io and three fds. */
    static void fakeProcess(Path proc, long pid) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("status"), "Name:\tcloud-hyperviso\nVmPeak:\t  2000 kB\nVmRSS:\t  1000 kB\nThreads:\t5\n");
        // pid (comm with spaces) state ppid ... field 10 minflt, 12 majflt, 14 utime, 15 stime, 20 threads, 23 vsize, 24 rss
        Files.writeString(dir.resolve("stat"), pid + " (a b) S 1 2 3 4 5 6 70 8 90 10 11 12 13 14 15 16 5 0 100 4096 25 0\n");
        Files.writeString(dir.resolve("io"), "rchar: 10\nwchar: 20\nread_bytes: 30\ncancelled_write_bytes: 4\n");
        Path fd = Files.createDirectories(dir.resolve("fd"));
        for (int i = 0; i < 3; i++) {
            Files.createFile(fd.resolve(Integer.toString(i)));
        }
    }

    @Test
    void readsKatasItemsInBytes(@TempDir Path proc) throws IOException {
        fakeProcess(proc, 42);
        ProcFacts facts = ProcFacts.read(proc, 42);
        assertEquals(1000 * 1024.0, facts.status().get("vmrss"));
        assertEquals(2000 * 1024.0, facts.status().get("vmpeak"));
        assertEquals(70.0, facts.stat().get("minflt"));
        assertEquals(90.0, facts.stat().get("majflt"));
        assertEquals(11.0, facts.stat().get("utime"));
        assertEquals(12.0, facts.stat().get("stime"));
        assertEquals(4096.0, facts.stat().get("vsize"));
        assertEquals(25.0, facts.stat().get("rss"));
        assertEquals(5, facts.threads());
        assertEquals(30.0, facts.io().get("readbytes"));
        assertEquals(4.0, facts.io().get("cancelledwritebytes"));
        assertEquals(3, facts.fds());
    }

    @Test
    void aProcessThatIsGoneHasNoItems(@TempDir Path proc) {
        ProcFacts facts = ProcFacts.read(proc, 7);
        assertTrue(facts.status().isEmpty() && facts.stat().isEmpty() && facts.io().isEmpty());
        assertEquals(-1, facts.fds());
        assertEquals(-1, facts.threads());
    }
}
