package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.JsonTrees;

import java.util.List;
import java.util.function.Function;

/**
 * Builds one JSON object of a Cloud Hypervisor request body, as the records' {@code toJson()} methods write
 * them: keys in the order added (the records' component order), a null value leaves its key out so Cloud
 * Hypervisor applies its serde default (its {@code vmm/src/api/openapi/cloud-hypervisor.yaml} marks which keys
 * are optional). A null element inside a list is written as JSON {@code null}, as Jackson's binding wrote it.
 */
final class ClhObject {
    private final ObjectNode node = JsonTrees.NODES.objectNode();

    /** Adds {@code key: "value"}, or nothing when {@code value} is null. */
    ClhObject put(String key, String value) {
        if (value != null) {
            node.put(key, value);
        }
        return this;
    }

    /** Adds {@code key: value}, or nothing when {@code value} is null. */
    ClhObject put(String key, Integer value) {
        if (value != null) {
            node.put(key, value.intValue());
        }
        return this;
    }

    /** Adds {@code key: value}, or nothing when {@code value} is null. */
    ClhObject put(String key, Long value) {
        if (value != null) {
            node.put(key, value.longValue());
        }
        return this;
    }

    /** Adds {@code key: true|false}, or nothing when {@code value} is null. */
    ClhObject put(String key, Boolean value) {
        if (value != null) {
            node.put(key, value.booleanValue());
        }
        return this;
    }

    /** Adds {@code key: toJson(value)} (a nested object), or nothing when {@code value} is null. */
    <T> ClhObject put(String key, T value, Function<? super T, ? extends JsonNode> toJson) {
        if (value != null) {
            node.set(key, toJson.apply(value));
        }
        return this;
    }

    /** Adds {@code key: [toJson(each)...]}, or nothing when {@code values} is null. */
    <T> ClhObject putList(String key, List<T> values, Function<? super T, ? extends JsonNode> toJson) {
        if (values != null) {
            ArrayNode array = node.putArray(key);
            for (T value : values) {
                array.add(value == null ? JsonTrees.NODES.nullNode() : toJson.apply(value));
            }
        }
        return this;
    }

    /** @return the object built (the builder's own node, not a copy) */
    ObjectNode node() {
        return node;
    }
}
