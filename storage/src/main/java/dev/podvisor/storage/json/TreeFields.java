package dev.podvisor.storage.json;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.util.Map;

/**
 * The fields of one JSON object read with checks, for hand-written codecs of persisted records (sandbox.json, the
 * storage execution records) instead of databind's reflection. Every problem is a {@link ShapeException} naming
 * where the object sits ({@code where}, e.g. {@code containers.c1}), the key and the offending value.
 *
 * <p>Presence rules: a key read with {@link #text}, {@link #nullableText}, {@link #bool}, {@link #integer},
 * {@link #array} or {@link #object} must be there; {@link #optional} tolerates its absence. Keys nobody asks for
 * are ignored, so a file with a field a newer build added still reads.
 */
public final class TreeFields {

    /** A JSON value of the wrong shape: the message names the place, the key and the value. */
    public static final class ShapeException extends IOException {
        ShapeException(String message) {
            super(message);
        }
    }

    private static final int SHOWN = 80;

    private final JsonNode object;
    private final String where;

    private TreeFields(JsonNode object, String where) {
        this.object = object;
        this.where = where;
    }

    /**
     * The fields of {@code node}.
     *
     * @param node  the value that must be an object
     * @param where its place, for messages ({@code ""} for the document root)
     * @throws ShapeException when {@code node} is not an object
     */
    public static TreeFields of(JsonNode node, String where) throws ShapeException {
        if (node == null || !node.isObject()) {
            throw bad(where, "expected an object", node);
        }
        return new TreeFields(node, where);
    }

    /** The place of {@code key} in this object, as messages show it. */
    public String where(String key) {
        return where.isEmpty() ? key : where + "." + key;
    }

    /** The required non-null string at {@code key}. @throws ShapeException when absent, null or not a string */
    public String text(String key) throws ShapeException {
        return text(required(key), where(key));
    }

    /** The string at {@code key}, null when its value is JSON null. @throws ShapeException when absent or not a string */
    public String nullableText(String key) throws ShapeException {
        JsonNode value = required(key);
        return value.isNull() ? null : text(value, where(key));
    }

    /** The required boolean at {@code key}. @throws ShapeException when absent or not {@code true}/{@code false} */
    public boolean bool(String key) throws ShapeException {
        JsonNode value = required(key);
        if (!value.isBoolean()) {
            throw bad(where(key), "expected true or false", value);
        }
        return value.booleanValue();
    }

    /** The required integer at {@code key}. @throws ShapeException when absent or not an integer within a long */
    public long integer(String key) throws ShapeException {
        return integer(required(key), where(key));
    }

    /** The required array at {@code key}. @throws ShapeException when absent or not an array */
    public JsonNode array(String key) throws ShapeException {
        JsonNode value = required(key);
        if (!value.isArray()) {
            throw bad(where(key), "expected an array", value);
        }
        return value;
    }

    /** The required object at {@code key}. @throws ShapeException when absent or not an object */
    public TreeFields object(String key) throws ShapeException {
        return of(required(key), where(key));
    }

    /** This object's keys and values, in document order. */
    public Iterable<Map.Entry<String, JsonNode>> properties() {
        return object.properties();
    }

    /** The value at {@code key}, or null when the key is absent or its value is JSON null. */
    public JsonNode optional(String key) {
        JsonNode value = object.get(key);
        return value == null || value.isNull() ? null : value;
    }

    /** {@code value} as a non-null string. @throws ShapeException naming {@code where} when it is not one */
    public static String text(JsonNode value, String where) throws ShapeException {
        if (!value.isTextual()) {
            throw bad(where, "expected a string", value);
        }
        return value.textValue();
    }

    /** {@code value} as a long. @throws ShapeException naming {@code where} when it is not an integer within a long */
    public static long integer(JsonNode value, String where) throws ShapeException {
        if (!value.isIntegralNumber() || !value.canConvertToLong()) {
            throw bad(where, "expected an integer", value);
        }
        return value.longValue();
    }

    /** A {@link ShapeException} for {@code key} of this object: {@code "<where>: <problem>, got <value>"}. */
    public ShapeException bad(String key, String problem) {
        return bad(where(key), problem, object.get(key));
    }

    /** A {@link ShapeException}: {@code "<where>: <problem>, got <value>"} (the value cut at 80 characters). */
    public static ShapeException bad(String where, String problem, JsonNode value) {
        String shown = value == null || value.isMissingNode() ? "nothing" : JsonTrees.toString(value, false);
        if (shown.length() > SHOWN) {
            shown = shown.substring(0, SHOWN) + "...";
        }
        return new ShapeException((where.isEmpty() ? "document" : where) + ": " + problem + ", got " + shown);
    }

    private JsonNode required(String key) throws ShapeException {
        JsonNode value = object.get(key);
        if (value == null) {
            throw new ShapeException(where(key) + ": missing");
        }
        return value;
    }
}
