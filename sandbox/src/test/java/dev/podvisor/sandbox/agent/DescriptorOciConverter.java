package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.podvisor.protocols.agent.Spec;

import dev.podvisor.storage.json.JsonTrees;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

/**
 * TEST ONLY: the descriptor-based converter {@link OciSpecConverter} replaced (moved here unchanged but for its
 * name and treating oci.proto's StringEntry lists, Kata's map fields, as it treated maps), kept as the reference the explicit converter is checked against field for field
 * ({@link OciSpecConverterParityTest}). The product no longer walks descriptors: building them costs every shim
 * protobuf-java's DescriptorProtos.
 *
 * <p>Original description:
 * Converts an OCI runtime spec (config.json, runtime-spec 1.x) into the kata agent's protobuf mirror of it
 * ({@code grpc.Spec}, kata-containers: src/libs/protocols/protos/oci.proto), which Kata's runtimes build with
 * hand-written code. The mirror keeps the OCI structure and spells every field name with capitals
 * ({@code process.user.uid} → {@code Process.User.UID}, {@code linux.uidMappings} → {@code Linux.UIDMappings}),
 * so the conversion walks the protobuf descriptor and matches each JSON key to the field whose name equals it
 * ignoring case; the one exception is {@code ociVersion} → {@code Version}. Map fields (annotations, sysctl)
 * keep their keys. JSON keys the mirror has no field for are skipped (the mirror predates some OCI fields).
 *
 * <p>The walk fills a {@link DynamicMessage} and the generated builder parses its bytes: setting fields of a
 * generated builder by descriptor would build protobuf-java's reflective accessor tables (a
 * {@code java.lang.reflect.Method} per accessor, 3,700 for the spec's messages) that then stay in every shim's
 * heap; the extra encode and parse of a spec costs microseconds.
 */
final class DescriptorOciConverter {

    private static final Map<String, String> RENAMED = Map.of("ociversion", "version");

    private DescriptorOciConverter() {
    }

    /**
     * Converts a whole spec.
     *
     * @throws IllegalArgumentException naming the JSON path of a value whose type does not fit the field
     */
    static Spec toAgentSpec(JsonNode spec) {
        return merge(spec, Spec.newBuilder(), "").build();
    }

    /**
     * Converts any OCI JSON object into the given protobuf message builder (e.g. an exec's Process).
     *
     * @param object the OCI object; null or JSON null leaves {@code builder} as it is
     * @param builder a generated builder of the agent's mirror of that object
     * @param path   the object's JSON path in messages ({@code ""} for the root, {@code "resources"})
     * @return {@code builder}, with the object's fields merged in
     * @throws IllegalArgumentException naming the JSON path of a value whose type does not fit the field
     */
    static <B extends Message.Builder> B merge(JsonNode object, B builder, String path) {
        if (object == null || object.isNull()) {
            return builder;
        }
        DynamicMessage.Builder dynamic = DynamicMessage.newBuilder(builder.getDescriptorForType());
        mergeFields(object, dynamic, path);
        try {
            builder.mergeFrom(dynamic.build().toByteString());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("OCI spec " + display(path) + ": the agent's message did not parse its own encoding", e);
        }
        return builder;
    }

    private static Message.Builder mergeFields(JsonNode object, Message.Builder builder, String path) {
        if (object.isNull()) {
            return builder; // a null element of an array of objects: an empty message, as before
        }
        if (!object.isObject()) {
            throw new IllegalArgumentException("OCI spec " + display(path) + ": expected an object, got " + object.getNodeType());
        }
        Map<String, FieldDescriptor> byName = fieldsByLowerName(builder);
        for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            String key = entry.getKey().toLowerCase(Locale.ROOT);
            FieldDescriptor field = byName.get(RENAMED.getOrDefault(key, key));
            JsonNode value = entry.getValue();
            if (field == null || value.isNull()) {
                continue;
            }
            String childPath = path + "." + entry.getKey();
            if (field.isMapField() || isStringEntries(field)) { // the one change: Kata's maps are StringEntry lists here
                mergeMap(value, builder, field, childPath);
            } else if (field.isRepeated()) {
                if (!value.isArray()) {
                    throw new IllegalArgumentException("OCI spec " + display(childPath) + ": expected an array, got " + value.getNodeType());
                }
                int index = 0;
                for (JsonNode element : value) {
                    builder.addRepeatedField(field, convert(element, builder, field, childPath + "[" + index++ + "]"));
                }
            } else {
                builder.setField(field, convert(value, builder, field, childPath));
            }
        }
        return builder;
    }

    private static void mergeMap(JsonNode value, Message.Builder builder, FieldDescriptor field, String path) {
        if (!value.isObject()) {
            throw new IllegalArgumentException("OCI spec " + display(path) + ": expected an object, got " + value.getNodeType());
        }
        FieldDescriptor keyField = field.getMessageType().findFieldByName("key");
        FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            Message.Builder pair = builder.newBuilderForField(field);
            pair.setField(keyField, entry.getKey());
            pair.setField(valueField, scalar(entry.getValue(), valueField, path + "." + entry.getKey()));
            builder.addRepeatedField(field, pair.build());
        }
    }

    private static Object convert(JsonNode value, Message.Builder parent, FieldDescriptor field, String path) {
        if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            return mergeFields(value, parent.newBuilderForField(field), path).build();
        }
        return scalar(value, field, path);
    }

    private static Object scalar(JsonNode value, FieldDescriptor field, String path) {
        boolean ok = switch (field.getJavaType()) {
            case STRING -> value.isTextual();
            case BOOLEAN -> value.isBoolean();
            case INT, LONG -> value.isIntegralNumber();
            case FLOAT, DOUBLE -> value.isNumber();
            default -> false;
        };
        if (!ok) {
            throw new IllegalArgumentException("OCI spec " + display(path) + ": " + JsonTrees.toString(value, false)
                    + " does not fit a " + field.getJavaType().name().toLowerCase(Locale.ROOT));
        }
        return switch (field.getJavaType()) {
            case STRING -> value.asText();
            case BOOLEAN -> value.asBoolean();
            case INT -> (int) value.asLong();   // uint32 values above 2^31 wrap as protobuf-java expects
            case LONG -> value.bigIntegerValue().longValue(); // uint64 likewise
            case FLOAT -> (float) value.asDouble();
            case DOUBLE -> value.asDouble();
            default -> throw new IllegalStateException("unreachable");
        };
    }

    private static final Map<com.google.protobuf.Descriptors.Descriptor, Map<String, FieldDescriptor>> CACHE =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static Map<String, FieldDescriptor> fieldsByLowerName(Message.Builder builder) {
        return CACHE.computeIfAbsent(builder.getDescriptorForType(), descriptor -> {
            Map<String, FieldDescriptor> byName = new HashMap<>();
            for (FieldDescriptor field : descriptor.getFields()) {
                byName.put(field.getName().toLowerCase(Locale.ROOT), field);
            }
            return byName;
        });
    }

    /** Annotations and Sysctl, maps in Kata's oci.proto, are repeated StringEntry in ours (same wire format). */
    private static boolean isStringEntries(FieldDescriptor field) {
        return field.isRepeated() && field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && field.getMessageType().getFullName().equals("grpc.StringEntry");
    }

    private static String display(String path) {
        return path.isEmpty() ? "(root)" : path.substring(1);
    }
}
