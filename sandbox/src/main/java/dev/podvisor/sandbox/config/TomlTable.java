package dev.podvisor.sandbox.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Strictly typed reads from one TOML table, remembering which keys were read so the rest can be reported. A TOML
 * string is never accepted where an integer or a boolean is expected, nor the other way round.
 */
final class TomlTable {
    private final String source;
    private final String name;
    private final ObjectNode node;
    private final Map<String, String> keySources;
    private final Set<String> used = new LinkedHashSet<>();

    /**
     * @param source the file name, for messages
     * @param name   the table's dotted name, e.g. {@code hypervisor.clh}
     * @param node   the table, or null when the file does not have it
     * @param keySources for keys set by a drop-in: dotted key ({@code hypervisor.clh.default_memory}) to the file
     *                   that set it last; other keys are named with {@code source}
     */
    TomlTable(String source, String name, ObjectNode node, Map<String, String> keySources) {
        this.source = source;
        this.name = name;
        this.node = node;
        this.keySources = keySources;
    }

    String name() {
        return name;
    }

    /** @return whether the table has {@code key} (marks it as read) */
    boolean has(String key) {
        used.add(key);
        return node != null && node.has(key);
    }

    private JsonNode get(String key) {
        used.add(key);
        return node == null ? null : node.get(key);
    }

    /** @return the keys present in the file and never read, in file order */
    List<String> unread() {
        List<String> out = new ArrayList<>();
        if (node != null) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!used.contains(k)) {
                    out.add(k);
                }
            }
        }
        return out;
    }

    /** @return an error naming the file, table, key and value: {@code f: [t] k = v: problem} */
    ConfigException bad(String key, String problem) {
        JsonNode v = node == null ? null : node.get(key);
        return new ConfigException(keySources.getOrDefault(name + "." + key, source) + ": " + where(key) + (v == null ? "" : " = " + render(v)) + ": "
                + problem);
    }

    /** @return {@code [table] key} */
    String where(String key) {
        return "[" + name + "] " + key;
    }

    static String render(JsonNode v) {
        return v.toString();
    }

    String string(String key, String def) {
        JsonNode v = get(key);
        if (v == null) {
            return def;
        }
        if (!v.isTextual()) {
            throw bad(key, "expected a string");
        }
        return v.textValue();
    }

    boolean bool(String key, boolean def) {
        JsonNode v = get(key);
        if (v == null) {
            return def;
        }
        if (!v.isBoolean()) {
            throw bad(key, "expected true or false");
        }
        return v.booleanValue();
    }

    /**
     * @param what the expectation, e.g. {@code an integer number of MiB}
     * @return the value, checked to be a TOML integer in {@code [min, max]}
     */
    long integer(String key, long def, long min, long max, String what) {
        JsonNode v = get(key);
        if (v == null) {
            return def;
        }
        if (!v.isIntegralNumber()) {
            throw bad(key, "expected " + what);
        }
        BigInteger b = v.bigIntegerValue();
        if (b.compareTo(BigInteger.valueOf(min)) < 0 || b.compareTo(BigInteger.valueOf(max)) > 0) {
            throw bad(key, "expected " + what + " between " + min + " and " + max);
        }
        return b.longValue();
    }

    /** Unsigned 32-bit integer that must also fit a Java int (Kata's uint32 keys). */
    int uint(String key, int def, String what) {
        return (int) integer(key, def, 0, Integer.MAX_VALUE, what);
    }

    /** @return the value of a TOML integer or float key, as a double */
    double number(String key, double def, String what) {
        JsonNode v = get(key);
        if (v == null) {
            return def;
        }
        if (!v.isNumber()) {
            throw bad(key, "expected " + what);
        }
        return v.doubleValue();
    }

    List<String> strings(String key, List<String> def) {
        JsonNode v = get(key);
        if (v == null) {
            return def;
        }
        if (!v.isArray()) {
            throw bad(key, "expected an array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw bad(key, "expected an array of strings, found element " + render(e));
            }
            out.add(e.textValue());
        }
        return List.copyOf(out);
    }
}
