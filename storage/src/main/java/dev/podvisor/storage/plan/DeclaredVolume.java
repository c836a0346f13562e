package dev.podvisor.storage.plan;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * One volume declared in the pod annotation {@code io.podvisor.volumes}: a JSON object keyed by volume name, each
 * value {@code {"kind":"emptyDir","medium":"Memory"|"disk"|"HugePages"|"HugePages-2Mi"..., "sizeLimit": bytes or
 * quantity}}.
 *
 * @param name           the volume name (as in the pod spec, and in kubelet's paths)
 * @param medium         the medium
 * @param sizeLimitBytes the declared size in bytes, or 0 when not declared
 * @param hugePageBytes  for {@link Medium#HUGEPAGES}: the page size given in the medium, or 0 for "as the host mount"
 */
public record DeclaredVolume(String name, Medium medium, long sizeLimitBytes, long hugePageBytes) {

    /** The annotation key. */
    public static final String ANNOTATION = "io.podvisor.volumes";

    /** The emptyDir medium. */
    public enum Medium {
        /** {@code Memory}: a tmpfs. */
        MEMORY,
        /** {@code disk} (or empty): the node's disk. */
        DISK,
        /** {@code HugePages} or {@code HugePages-<size>}: a hugetlbfs. */
        HUGEPAGES
    }

    private static final Set<String> KEYS = Set.of("kind", "medium", "sizeLimit");

    /**
     * Parses the annotation value.
     *
     * @return volume name to declaration, in annotation order
     * @throws PlanException naming the annotation, the volume and the key when the value is not the shape above
     */
    public static Map<String, DeclaredVolume> parse(String value) {
        JsonNode root;
        try {
            root = JsonTrees.parse(value);
        } catch (IOException e) {
            throw new PlanException("annotation " + ANNOTATION + ": not JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new PlanException("annotation " + ANNOTATION + ": not a JSON object keyed by volume name");
        }
        Map<String, DeclaredVolume> out = new LinkedHashMap<>();
        for (var e : root.properties()) {
            String name = e.getKey();
            String at = "annotation " + ANNOTATION + " volume '" + name + "'";
            if (name.isEmpty() || name.contains("/") || name.equals(".") || name.equals("..")) {
                throw new PlanException(at + ": not a volume name");
            }
            JsonNode v = e.getValue();
            if (!v.isObject()) {
                throw new PlanException(at + ": not a JSON object");
            }
            for (var k : v.properties()) {
                if (!KEYS.contains(k.getKey())) {
                    throw new PlanException(at + " key '" + k.getKey() + "': unknown (allowed: kind, medium, sizeLimit)");
                }
            }
            JsonNode kind = v.get("kind");
            if (kind == null || !kind.isTextual() || !kind.asText().equals("emptyDir")) {
                throw new PlanException(at + " key 'kind': " + kind + " (only \"emptyDir\" is supported)");
            }
            JsonNode mediumNode = v.get("medium");
            String medium = mediumNode == null || mediumNode.isNull() ? "" : mediumNode.asText();
            Medium m;
            long pageBytes = 0;
            if (medium.equals("Memory")) {
                m = Medium.MEMORY;
            } else if (medium.isEmpty() || medium.equals("disk")) {
                m = Medium.DISK;
            } else if (medium.equals("HugePages")) {
                m = Medium.HUGEPAGES;
            } else if (medium.startsWith("HugePages-")) {
                m = Medium.HUGEPAGES;
                try {
                    pageBytes = Quantity.parseBytes(medium.substring("HugePages-".length()));
                } catch (IllegalArgumentException ex) {
                    throw new PlanException(at + " key 'medium': '" + medium + "' has no page size", ex);
                }
            } else {
                throw new PlanException(at + " key 'medium': '" + medium + "' (allowed: Memory, disk, HugePages, HugePages-<size>)");
            }
            long size = 0;
            JsonNode sizeNode = v.get("sizeLimit");
            if (sizeNode != null && !sizeNode.isNull()) {
                try {
                    size = sizeNode.isIntegralNumber() ? sizeNode.asLong() : Quantity.parseBytes(sizeNode.asText());
                } catch (IllegalArgumentException | ArithmeticException ex) {
                    throw new PlanException(at + " key 'sizeLimit': " + sizeNode + " is not bytes or a quantity", ex);
                }
                if (size <= 0) {
                    throw new PlanException(at + " key 'sizeLimit': " + sizeNode + " is not positive");
                }
            }
            out.put(name, new DeclaredVolume(name, m, size, pageBytes));
        }
        return out;
    }
}
