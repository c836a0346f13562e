package dev.podvisor.testbed.guest;

import dev.podvisor.testbed.log.TestbedLog;
import java.nio.file.Path;
import java.util.Map;

/**
 * The guest's side of the per-VM JSON-lines log: every line carries component {@code "guest"}. Lines
 * before the {@code boot} event (which names the log file) go to stderr only.
 */
final class GuestEvents implements AutoCloseable {

    private volatile TestbedLog log;

    /** Starts appending to {@code file} (the {@code log} key of the boot event). */
    synchronized void open(Path file) {
        if (log == null) {
            log = TestbedLog.open(file);
        }
    }

    /** Appends one line of kind {@code kind} (e.g. {@code "request"}, {@code "response"}, {@code "storage"}). */
    void log(String kind, Map<String, Object> fields) {
        TestbedLog current = log;
        if (current != null) {
            current.log("guest", kind, fields);
        } else {
            System.err.println("guest " + kind + " " + fields);
        }
    }

    @Override
    public synchronized void close() {
        if (log != null) {
            log.close();
        }
    }
}
