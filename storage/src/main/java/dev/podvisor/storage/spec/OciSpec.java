package dev.podvisor.storage.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A read-only, typed view of an OCI runtime spec ({@code config.json}, opencontainers/runtime-spec config.md).
 * The whole JSON tree is kept, so fields this view does not model survive {@link #withMounts} and
 * {@link #withRootPath} and {@link #toJson()}.
 *
 * <p>Instances are immutable: accessors return copies, and the {@code with...} methods return new specs.
 */
public final class OciSpec {


    private final ObjectNode tree;
    private final List<OciMount> mounts;

    private OciSpec(ObjectNode tree) {
        this.tree = tree;
        this.mounts = parseMounts(tree);
    }

    /**
     * Parses {@code config.json}.
     *
     * @param json the file's bytes (UTF-8 JSON)
     * @return the spec
     * @throws OciSpecException when the bytes are not JSON, not a JSON object, or a modelled field has the wrong
     *                          shape (e.g. {@code mounts[1].destination} missing); the message names the field
     */
    public static OciSpec parse(byte[] json) {
        JsonNode node;
        try {
            node = JsonTrees.parse(json);
        } catch (IOException e) {
            throw new OciSpecException("config.json: not JSON: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), e);
        }
        if (node == null || !node.isObject()) {
            throw new OciSpecException("config.json: not a JSON object (got " + (node == null ? "nothing" : node.getNodeType()) + ")");
        }
        return new OciSpec((ObjectNode) node);
    }

    /**
     * Builds a spec from an already parsed tree (deep-copied).
     *
     * @throws OciSpecException as {@link #parse}
     */
    public static OciSpec of(JsonNode tree) {
        if (tree == null || !tree.isObject()) {
            throw new OciSpecException("config.json: not a JSON object");
        }
        return new OciSpec(((ObjectNode) tree).deepCopy());
    }

    private static List<OciMount> parseMounts(ObjectNode tree) {
        JsonNode array = tree.get("mounts");
        if (array == null || array.isNull()) {
            return List.of();
        }
        if (!array.isArray()) {
            throw new OciSpecException("config.json 'mounts': not an array");
        }
        List<OciMount> out = new ArrayList<>(array.size());
        for (int i = 0; i < array.size(); i++) {
            JsonNode m = array.get(i);
            String at = "config.json 'mounts[" + i + "]";
            if (!m.isObject()) {
                throw new OciSpecException(at + "': not an object");
            }
            JsonNode destination = m.get("destination");
            if (destination == null || !destination.isTextual() || destination.asText().isEmpty()) {
                throw new OciSpecException(at + ".destination': missing or not a string (" + destination + ")");
            }
            List<String> options = new ArrayList<>();
            JsonNode opts = m.get("options");
            if (opts != null && !opts.isNull()) {
                if (!opts.isArray()) {
                    throw new OciSpecException(at + ".options': not an array (" + opts + ")");
                }
                for (JsonNode o : opts) {
                    if (!o.isTextual()) {
                        throw new OciSpecException(at + ".options': element not a string (" + o + ")");
                    }
                    options.add(o.asText());
                }
            }
            out.add(new OciMount(destination.asText(), text(m, "type", at), text(m, "source", at), options));
        }
        return List.copyOf(out);
    }

    private static String text(JsonNode node, String field, String at) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new OciSpecException(at + "." + field + "': not a string (" + v + ")");
        }
        return v.asText();
    }

    /** The {@code mounts} array, in spec order (empty when absent). */
    public List<OciMount> mounts() {
        return mounts;
    }

    /** The {@code annotations} object (empty when absent; non-string values are rendered as JSON text). */
    public Map<String, String> annotations() {
        JsonNode a = tree.get("annotations");
        if (a == null || !a.isObject()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        a.properties().forEach(e -> out.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()));
        return Collections.unmodifiableMap(out);
    }

    /** {@code root.path} (relative paths are relative to the bundle), or empty when absent. */
    public Optional<String> rootPath() {
        JsonNode p = tree.path("root").get("path");
        return p != null && p.isTextual() ? Optional.of(p.asText()) : Optional.empty();
    }

    /** {@code root.readonly} (false when absent). */
    public boolean rootReadonly() {
        return tree.path("root").path("readonly").asBoolean(false);
    }

    /** {@code process.terminal} (false when absent). */
    public boolean processTerminal() {
        return tree.path("process").path("terminal").asBoolean(false);
    }

    /** {@code linux.resources.memory.limit} in bytes, or empty when absent or not positive. */
    public OptionalLong memoryLimitBytes() {
        JsonNode n = tree.path("linux").path("resources").path("memory").get("limit");
        if (n == null || !n.canConvertToLong() || n.asLong() <= 0) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(n.asLong());
    }

    /** {@code linux.resources.hugepageLimits} (empty when absent). */
    public List<HugepageLimit> hugepageLimits() {
        JsonNode n = tree.path("linux").path("resources").get("hugepageLimits");
        if (n == null || !n.isArray()) {
            return List.of();
        }
        List<HugepageLimit> out = new ArrayList<>();
        for (int i = 0; i < n.size(); i++) {
            JsonNode h = n.get(i);
            JsonNode size = h.get("pageSize");
            JsonNode limit = h.get("limit");
            if (size == null || !size.isTextual() || limit == null || !limit.canConvertToLong()) {
                throw new OciSpecException("config.json 'linux.resources.hugepageLimits[" + i + "]': needs pageSize (string) and limit (bytes): " + h);
            }
            out.add(new HugepageLimit(size.asText(), limit.asLong()));
        }
        return List.copyOf(out);
    }

    /** A deep copy of the whole JSON tree, so nothing of the spec is lost. */
    public ObjectNode raw() {
        return tree.deepCopy();
    }

    /** A new spec equal to this one with {@code mounts} replaced (each written with destination, type, source, options). */
    public OciSpec withMounts(List<OciMount> newMounts) {
        ObjectNode copy = tree.deepCopy();
        ArrayNode array = copy.putArray("mounts");
        for (OciMount m : newMounts) {
            ObjectNode o = array.addObject();
            o.put("destination", m.destination());
            if (!m.type().isEmpty()) {
                o.put("type", m.type());
            }
            if (!m.source().isEmpty()) {
                o.put("source", m.source());
            }
            ArrayNode opts = o.putArray("options");
            m.options().forEach(opts::add);
        }
        return new OciSpec(copy);
    }

    /** A new spec equal to this one with {@code root.path} set to {@code path} ({@code root.readonly} kept). */
    public OciSpec withRootPath(String path) {
        ObjectNode copy = tree.deepCopy();
        JsonNode root = copy.get("root");
        ObjectNode r = root instanceof ObjectNode o ? o : copy.putObject("root");
        r.put("path", path);
        return new OciSpec(copy);
    }

    /** The spec as compact JSON bytes (UTF-8). */
    public byte[] toJson() {
        return JsonTrees.toBytes(tree);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof OciSpec other && other.tree.equals(tree);
    }

    @Override
    public int hashCode() {
        return tree.hashCode();
    }

    @Override
    public String toString() {
        return tree.toString();
    }
}
