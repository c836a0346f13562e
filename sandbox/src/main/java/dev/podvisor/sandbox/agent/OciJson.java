package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.StringEntry;
import dev.podvisor.storage.json.JsonTrees;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The JSON side of the OCI spec conversion ({@link OciSpecConverter}): walking an object's members, checking a
 * value's type against its protobuf field and the error texts ({@link OciMembers} walks an object with them). Paths are built as {@code .process.user.uid},
 * {@code .mounts[0]} and shown without the leading dot ({@code (root)} for the root).
 *
 * <p>Type rules (the protobuf field's Java type): string fields need a JSON string, bool fields a JSON boolean,
 * int32/uint32 (Java {@code int}) and int64/uint64 (Java {@code long}) fields an integral JSON number; a uint32 above
 * 2^31 wraps to the negative {@code int} protobuf-java holds it as, a uint64 above 2^63 likewise to a negative
 * {@code long}. oci.proto has no float, double, enum or bytes fields. A misfit is an
 * {@link IllegalArgumentException} "OCI spec process.user.uid: "root" does not fit a int".
 */
final class OciJson {

    private OciJson() {
    }

    /** @throws IllegalArgumentException "expected an object, got KIND" unless {@code value} is a JSON object */
    static JsonNode object(JsonNode value, String path) {
        if (!value.isObject()) {
            throw new IllegalArgumentException("OCI spec " + display(path) + ": expected an object, got " + value.getNodeType());
        }
        return value;
    }

    /** The path of an array element: {@code path[index]}. */
    static String element(String path, int index) {
        return path + "[" + index + "]";
    }

    /** @throws IllegalArgumentException unless {@code value} is a JSON array */
    static JsonNode array(JsonNode value, String path) {
        if (!value.isArray()) {
            throw new IllegalArgumentException("OCI spec " + display(path) + ": expected an array, got " + value.getNodeType());
        }
        return value;
    }

    static String string(JsonNode value, String path) {
        if (!value.isTextual()) {
            throw misfit(value, path, "string");
        }
        return value.asText();
    }

    static boolean bool(JsonNode value, String path) {
        if (!value.isBoolean()) {
            throw misfit(value, path, "boolean");
        }
        return value.asBoolean();
    }

    /** An int32 or uint32 field's value (a uint32 above 2^31 wraps, as protobuf-java holds it). */
    static int int32(JsonNode value, String path) {
        if (!value.isIntegralNumber()) {
            throw misfit(value, path, "int");
        }
        return (int) value.asLong();
    }

    /** An int64 or uint64 field's value (a uint64 above 2^63 wraps, as protobuf-java holds it). */
    static long int64(JsonNode value, String path) {
        if (!value.isIntegralNumber()) {
            throw misfit(value, path, "long");
        }
        return value.bigIntegerValue().longValue();
    }

    /** A repeated string field's values. */
    static List<String> strings(JsonNode value, String path) {
        array(value, path);
        List<String> values = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            values.add(string(value.get(i), element(path, i)));
        }
        return values;
    }

    /** A repeated int32/uint32 field's values. */
    static List<Integer> int32s(JsonNode value, String path) {
        array(value, path);
        List<Integer> values = new ArrayList<>(value.size());
        for (int i = 0; i < value.size(); i++) {
            values.add(int32(value.get(i), element(path, i)));
        }
        return values;
    }

    /**
     * The entries of a field Kata declares as {@code map<string, string>} (annotations, sysctl), keys as the JSON
     * spells them, in JSON order; a null value is a misfit. The mirror holds them as repeated
     * {@link StringEntry} (same wire format, see oci.proto).
     */
    static List<StringEntry> stringEntries(JsonNode value, String path) {
        object(value, path);
        List<StringEntry> entries = new ArrayList<>(value.size());
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            entries.add(StringEntry.newBuilder().setKey(entry.getKey())
                    .setValue(string(entry.getValue(), path + "." + entry.getKey())).build());
        }
        return entries;
    }

    /** A path as messages show it: without the leading dot, {@code (root)} for the root. */
    static String display(String path) {
        if (path.isEmpty()) {
            return "(root)";
        }
        return path.startsWith(".") ? path.substring(1) : path;
    }

    private static IllegalArgumentException misfit(JsonNode value, String path, String javaType) {
        return new IllegalArgumentException("OCI spec " + display(path) + ": " + JsonTrees.toString(value, false)
                + " does not fit a " + javaType);
    }
}
