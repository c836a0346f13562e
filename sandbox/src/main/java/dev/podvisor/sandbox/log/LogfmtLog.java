package dev.podvisor.sandbox.log;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/**
 * The shim daemon's log: one logfmt line per event ({@code time=… level=… msg=… key=value…}), written to the
 * bundle's {@code log} FIFO, which containerd copies into its own log. Values with spaces, quotes or
 * {@code =} are quoted. Thread-safe; a write error (containerd gone) is swallowed so logging never fails a call.
 */
public final class LogfmtLog {

    /** Levels in logrus order (what containerd users grep for). */
    public enum Level { DEBUG, INFO, WARN, ERROR }

    private final PrintStream out;
    private volatile Level threshold;
    private final Map<String, String> fixed;

    /**
     * @param out       where lines go (the log FIFO, or stderr)
     * @param threshold lowest level written
     * @param fixed     fields added to every line, in the map's iteration order, e.g. {@code sandbox=<id>}
     */
    public LogfmtLog(OutputStream out, Level threshold, Map<String, String> fixed) {
        this.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        this.threshold = threshold;
        this.fixed = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fixed));
    }

    /** A log that drops everything. */
    public static LogfmtLog discard() {
        return new LogfmtLog(OutputStream.nullOutputStream(), Level.ERROR, Map.of());
    }

    /**
     * Lowers the threshold to DEBUG (configuration's {@code [runtime] enable_debug}, read after the daemon
     * started with containerd's {@code -debug} flag or without it).
     */
    public void enableDebug() {
        threshold = Level.DEBUG;
    }

    public boolean enabled(Level level) {
        return level.compareTo(threshold) >= 0;
    }

    /** Writes one line; {@code kv} is alternating keys and values ({@code null} values print as empty). */
    public void log(Level level, String message, Object... kv) {
        if (!enabled(level)) {
            return;
        }
        StringBuilder line = new StringBuilder(128);
        Instant now = Instant.now();
        line.append("time=");
        UtcTime.append(line, now.getEpochSecond(), now.getNano());
        line.append(" level=").append(level.name().toLowerCase())
                .append(" msg=");
        appendValue(line, message);
        for (var entry : fixed.entrySet()) {
            line.append(' ').append(entry.getKey()).append('=');
            appendValue(line, entry.getValue());
        }
        for (int i = 0; i + 1 < kv.length; i += 2) {
            line.append(' ').append(kv[i]).append('=');
            appendValue(line, kv[i + 1] == null ? "" : String.valueOf(kv[i + 1]));
        }
        synchronized (out) {
            out.println(line);
        }
    }

    public void debug(String message, Object... kv) {
        log(Level.DEBUG, message, kv);
    }

    public void info(String message, Object... kv) {
        log(Level.INFO, message, kv);
    }

    public void warn(String message, Object... kv) {
        log(Level.WARN, message, kv);
    }

    public void error(String message, Object... kv) {
        log(Level.ERROR, message, kv);
    }

    static void appendValue(StringBuilder line, String value) {
        boolean quote = value.isEmpty();
        for (int i = 0; i < value.length() && !quote; i++) {
            char c = value.charAt(i);
            quote = c <= ' ' || c == '"' || c == '=' || c == '\\';
        }
        if (!quote) {
            line.append(value);
            return;
        }
        line.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\t' -> line.append("\\t");
                default -> line.append(c);
            }
        }
        line.append('"');
    }
}
