package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.StringEntry;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A cursor over an OCI object's members for the per-message converters: {@link #next()} steps to the next member
 * whose value is not JSON null, {@link #key()} is its key in lower case (protobuf field names are matched
 * ignoring case), and the typed readers check the value against the field's type with {@link OciJson}'s rules and
 * errors, naming the member's path ({@code .process.user.uid}, shown without the leading dot). A loop rather than
 * callbacks, so the conversion adds no lambda classes to every shim.
 *
 * <pre>{@code
 * for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
 *     switch (m.key()) {
 *         case "uid" -> b.setUID(m.int32());
 *         default -> { }   // no field: skipped
 *     }
 * }
 * }</pre>
 */
final class OciMembers {

    private final Iterator<Map.Entry<String, JsonNode>> members;
    private final String path;
    private String key;
    private JsonNode value;
    private String memberPath;

    private OciMembers(Iterator<Map.Entry<String, JsonNode>> members, String path) {
        this.members = members;
        this.path = path;
    }

    /**
     * The members of {@code object}: none for Java null or JSON null (a null element of an array of objects
     * converts to an empty message).
     *
     * @param path the object's path ({@code ""} for the root, {@code .process}, {@code .mounts[0]})
     * @throws IllegalArgumentException "expected an object, got KIND" when {@code object} is another JSON value
     */
    static OciMembers of(JsonNode object, String path) {
        if (object == null || object.isNull()) {
            return new OciMembers(Collections.emptyIterator(), path);
        }
        return new OciMembers(OciJson.object(object, path).fields(), path);
    }

    /** Steps to the next member with a non-null value; false when there is none. */
    boolean next() {
        while (members.hasNext()) {
            Map.Entry<String, JsonNode> member = members.next();
            if (!member.getValue().isNull()) {
                key = member.getKey().toLowerCase(Locale.ROOT);
                value = member.getValue();
                memberPath = path + "." + member.getKey();
                return true;
            }
        }
        return false;
    }

    /** The member's key in lower case. */
    String key() {
        return key;
    }

    /** The member's value. */
    JsonNode value() {
        return value;
    }

    /** The member's path, for the converter of a message-typed member. */
    String path() {
        return memberPath;
    }

    /** The member's value as an array (of messages). @throws IllegalArgumentException when it is not one */
    JsonNode array() {
        return OciJson.array(value, memberPath);
    }

    /** The path of element {@code index} of the member's array. */
    String element(int index) {
        return OciJson.element(memberPath, index);
    }

    String string() {
        return OciJson.string(value, memberPath);
    }

    boolean bool() {
        return OciJson.bool(value, memberPath);
    }

    /** An int32 or uint32 field's value. */
    int int32() {
        return OciJson.int32(value, memberPath);
    }

    /** An int64 or uint64 field's value. */
    long int64() {
        return OciJson.int64(value, memberPath);
    }

    /** A repeated string field's values. */
    List<String> strings() {
        return OciJson.strings(value, memberPath);
    }

    /** A repeated int32/uint32 field's values. */
    List<Integer> int32s() {
        return OciJson.int32s(value, memberPath);
    }

    /** The entries of a field Kata declares as {@code map<string, string>} (annotations, sysctl). */
    List<StringEntry> stringEntries() {
        return OciJson.stringEntries(value, memberPath);
    }
}
