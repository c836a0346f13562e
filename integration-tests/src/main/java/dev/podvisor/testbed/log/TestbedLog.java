package dev.podvisor.testbed.log;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The per-VM JSON-lines log of the testbed ({@code <vm dir>/testbed.jsonl}, see the "Testbed contract" in
 * {@code docs/architecture.md}).
 *
 * <p>Each call to {@link #log} appends one line holding one JSON object:
 * {@code {"ts":"2026-11-21T09:50:01.123456Z","component":"ch","kind":"request",...fields}} — {@code ts} is
 * the ISO-8601 UTC instant of the call, {@code component} names the writer (e.g. {@code "ch"},
 * {@code "virtiofsd"}, {@code "guest"}, {@code "agent"}), {@code kind} what happened (e.g.
 * {@code "request"}, {@code "response"}, {@code "vsock-connect"}), and the remaining keys come from the
 * {@code fields} map in its iteration order (values are serialised by Jackson: strings, numbers, booleans,
 * lists, maps, records).
 *
 * <p>Thread-safe; several processes (the cloud-hypervisor stand-in and the guest emulator) may append to
 * the same file: the file is opened with {@code O_APPEND} and every line is written with a single
 * {@code write(2)}. Logging never throws on I/O failure (a broken log must not break the stand-in); the
 * first failure is reported once on stderr and later lines are dropped.
 */
public final class TestbedLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final Path file;
    private final FileChannel channel;
    private boolean failed;

    private TestbedLog(Path file, FileChannel channel) {
        this.file = file;
        this.channel = channel;
    }

    /**
     * Opens (creating it if needed) the JSON-lines log at {@code file} for appending.
     *
     * @param file the log file, normally {@code <vm dir>/testbed.jsonl}; its directory must exist
     * @return the open log; close it when the writer stops
     * @throws UncheckedIOException if the file cannot be opened or created
     */
    public static TestbedLog open(Path file) {
        Objects.requireNonNull(file, "file");
        try {
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            return new TestbedLog(file, ch);
        } catch (IOException e) {
            throw new UncheckedIOException("testbed log " + file + ": cannot open", e);
        }
    }

    /** @return the path this log appends to */
    public Path file() {
        return file;
    }

    /**
     * Appends one line.
     *
     * @param component who writes (e.g. {@code "ch"}, {@code "guest"}); not null
     * @param kind      what happened (e.g. {@code "request"}); not null
     * @param fields    further keys of the object, in iteration order; may be null or empty; must not contain
     *                  the keys {@code ts}, {@code component} or {@code kind}
     * @throws IllegalArgumentException if {@code fields} contains a reserved key
     */
    public void log(String component, String kind, Map<String, Object> fields) {
        Objects.requireNonNull(component, "component");
        Objects.requireNonNull(kind, "kind");
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("ts", Instant.now().toString());
        line.put("component", component);
        line.put("kind", kind);
        if (fields != null) {
            for (Map.Entry<String, Object> e : fields.entrySet()) {
                if (line.containsKey(e.getKey())) {
                    throw new IllegalArgumentException("testbed log field '" + e.getKey() + "': reserved key");
                }
                line.put(e.getKey(), e.getValue());
            }
        }
        byte[] bytes;
        try {
            bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            bytes = (fallback(line, e) + "\n").getBytes(StandardCharsets.UTF_8);
        }
        synchronized (this) {
            if (failed || !channel.isOpen()) {
                return;
            }
            try {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            } catch (IOException e) {
                failed = true;
                System.err.println("testbed log " + file + ": write failed, dropping further lines: " + e);
            }
        }
    }

    private static String fallback(Map<String, Object> line, Exception e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ts", line.get("ts"));
        m.put("component", line.get("component"));
        m.put("kind", line.get("kind"));
        m.put("unserialisable", String.valueOf(e.getMessage()));
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException again) {
            return "{\"kind\":\"unserialisable\"}";
        }
    }

    /** Closes the file; later {@link #log} calls are ignored. */
    @Override
    public synchronized void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to do: the log is best effort
        }
    }
}
