package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the fields of one JSON object of a Cloud Hypervisor answer, as the answers' {@code fromJson} methods do.
 * Unknown keys are ignored (newer Cloud Hypervisor versions add keys); an absent key or JSON {@code null} reads as
 * null, or as 0 for a field the record holds as a primitive, as Jackson's record binding read it. A value of the
 * wrong type is an {@link IOException} naming the field's path (e.g. {@code config.disks[0].num_queues}) and the
 * value, written with {@link JsonTrees} ({@code JsonNode.toString()} would start databind's ObjectMapper). As
 * Jackson's default coercions did, a number or boolean where text belongs is taken as its text, and text holding a
 * whole number or {@code true}/{@code false} where those belong is taken as the number or boolean.
 */
final class ClhFields {
    /**
     * Reads one JSON value into a Java value.
     *
     * @param <T> the Java type
     */
    @FunctionalInterface
    interface Reader<T> {
        /**
         * @param node the value, never null, missing or JSON null (those read as null without calling this)
         * @param at   its path, for error messages
         * @return the Java value
         * @throws IOException when the value does not fit
         */
        T read(JsonNode node, String at) throws IOException;
    }

    private final JsonNode object;
    private final String at;

    private ClhFields(JsonNode object, String at) {
        this.object = object;
        this.at = at;
    }

    /**
     * The fields of {@code node}.
     *
     * @param node a JSON object
     * @param at   its path ({@code ""} for the answer itself)
     * @return the reader
     * @throws IOException when {@code node} is not an object
     */
    static ClhFields of(JsonNode node, String at) throws IOException {
        if (node == null || !node.isObject()) {
            throw wrong(node, at.isEmpty() ? "the answer" : at, "an object");
        }
        return new ClhFields(node, at);
    }

    /** @return the text of {@code key}, or null */
    String text(String key) throws IOException {
        return get(key, ClhFields::text);
    }

    /** @return the int of {@code key}, or null */
    Integer integer(String key) throws IOException {
        return get(key, ClhFields::integer);
    }

    /** @return the int of {@code key}, 0 when absent or null */
    int int0(String key) throws IOException {
        Integer value = integer(key);
        return value == null ? 0 : value;
    }

    /** @return the long of {@code key}, or null */
    Long longValue(String key) throws IOException {
        return get(key, ClhFields::longValue);
    }

    /** @return the long of {@code key}, 0 when absent or null */
    long long0(String key) throws IOException {
        Long value = longValue(key);
        return value == null ? 0 : value;
    }

    /** @return the boolean of {@code key}, or null */
    Boolean bool(String key) throws IOException {
        return get(key, ClhFields::bool);
    }

    /** @return {@code key}'s value read by {@code reader}, or null when absent or JSON null */
    <T> T get(String key, Reader<T> reader) throws IOException {
        return read(object.get(key), path(key), reader);
    }

    /** @return {@code key}'s array, each element read by {@code reader} (JSON null elements as null), or null */
    <T> List<T> list(String key, Reader<T> reader) throws IOException {
        return get(key, (node, where) -> list(node, where, reader));
    }

    /** @return {@code key}'s object as a map in document order, each value read by {@code reader}, or null */
    <T> Map<String, T> map(String key, Reader<T> reader) throws IOException {
        return get(key, (node, where) -> map(node, where, reader));
    }

    /**
     * @return {@code key}'s array with its elements as trees (a JSON null element as {@code NullNode}, as
     *         Jackson bound a {@code List<JsonNode>}), or null
     */
    List<JsonNode> trees(String key) throws IOException {
        return get(key, (node, where) -> {
            if (!node.isArray()) {
                throw wrong(node, where, "an array");
            }
            List<JsonNode> out = new ArrayList<>(node.size());
            node.forEach(out::add);
            return Collections.unmodifiableList(out);
        });
    }

    private String path(String key) {
        return at.isEmpty() ? key : at + "." + key;
    }

    private static <T> T read(JsonNode node, String at, Reader<T> reader) throws IOException {
        return node == null || node.isMissingNode() || node.isNull() ? null : reader.read(node, at);
    }

    /**
     * A JSON array as an unmodifiable list.
     *
     * @throws IOException when {@code node} is not an array or an element does not fit
     */
    static <T> List<T> list(JsonNode node, String at, Reader<T> reader) throws IOException {
        if (!node.isArray()) {
            throw wrong(node, at, "an array");
        }
        List<T> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(read(node.get(i), at + "[" + i + "]", reader));
        }
        return Collections.unmodifiableList(out);
    }

    /**
     * A JSON object as an unmodifiable map in document order.
     *
     * @throws IOException when {@code node} is not an object or a value does not fit
     */
    static <T> Map<String, T> map(JsonNode node, String at, Reader<T> reader) throws IOException {
        if (!node.isObject()) {
            throw wrong(node, at.isEmpty() ? "the answer" : at, "an object");
        }
        Map<String, T> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            out.put(e.getKey(), read(e.getValue(), at.isEmpty() ? e.getKey() : at + "." + e.getKey(), reader));
        }
        return Collections.unmodifiableMap(out);
    }

    /** A string; a number or boolean as its JSON text. */
    static String text(JsonNode node, String at) throws IOException {
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isNumber() || node.isBoolean()) {
            return node.asText();
        }
        throw wrong(node, at, "a string");
    }

    /** A whole number within int range, given as a number or as text. */
    static Integer integer(JsonNode node, String at) throws IOException {
        Long value = longValue(node, at);
        if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
            throw wrong(node, at, "an integer within int range");
        }
        return value.intValue();
    }

    /** A whole number within long range, given as a number or as text. */
    static Long longValue(JsonNode node, String at) throws IOException {
        if (node.isIntegralNumber() && node.canConvertToLong()) {
            return node.longValue();
        }
        if (node.isTextual()) {
            try {
                return Long.parseLong(node.textValue().trim());
            } catch (NumberFormatException e) {
                // falls through to the error
            }
        }
        throw wrong(node, at, "an integer");
    }

    /** {@code true} or {@code false}, given as a boolean or as text. */
    static Boolean bool(JsonNode node, String at) throws IOException {
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isTextual() && (node.textValue().equals("true") || node.textValue().equals("false"))) {
            return Boolean.valueOf(node.textValue());
        }
        throw wrong(node, at, "true or false");
    }

    /**
     * The error for a value that does not fit.
     *
     * @return {@code <at>: expected <what>, got <value as JSON, shortened>}
     */
    static IOException wrong(JsonNode node, String at, String what) {
        String value = node == null || node.isMissingNode() ? "nothing" : JsonTrees.toString(node, false);
        if (value.length() > 80) {
            value = value.substring(0, 77) + "...";
        }
        return new IOException(at + ": expected " + what + ", got " + value);
    }
}
