package dev.podvisor.storage.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * JSON text to and from Jackson's tree model ({@link JsonNode}) with jackson-core's streaming parser and generator
 * only: no {@code ObjectMapper}. Databind's mapper machinery is about 700 classes that every shim daemon would map
 * and link at start (docs/decisions/0010-json-without-object-mapper.md); the tree classes are a few dozen.
 *
 * <p>Reading follows {@code ObjectMapper.readTree}'s defaults: integers become {@code IntNode}, {@code LongNode} or
 * {@code BigIntegerNode} by size, other numbers {@code DoubleNode}; a repeated key keeps its last value; no content
 * at all gives {@link MissingNode}; what follows the first value is not read. Writing is compact, or in
 * Jackson's default pretty format ({@code "key" : value}, two-space indent) which is what
 * {@code SerializationFeature.INDENT_OUTPUT} wrote, so files written before read the same.
 */
public final class JsonTrees {
    /** The node factory every tree here is built with. */
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonTrees() {
    }

    /**
     * Parses one JSON value.
     *
     * @param json UTF-8 (or UTF-16/32 with a BOM) JSON text
     * @return the tree, {@link MissingNode} when the text holds no value
     * @throws IOException (a {@code JsonProcessingException}) when the text is not JSON, with jackson-core's
     *                     location in the message
     */
    public static JsonNode parse(byte[] json) throws IOException {
        try (JsonParser parser = FACTORY.createParser(json)) {
            return read(parser);
        }
    }

    /**
     * Parses one JSON value.
     *
     * @param json JSON text
     * @return the tree, {@link MissingNode} when the text holds no value
     * @throws IOException (a {@code JsonProcessingException}) when the text is not JSON
     */
    public static JsonNode parse(String json) throws IOException {
        try (JsonParser parser = FACTORY.createParser(json)) {
            return read(parser);
        }
    }

    /**
     * Reads and parses a JSON file.
     *
     * @param file the file
     * @return the tree, {@link MissingNode} when the file holds no value
     * @throws java.nio.file.NoSuchFileException when there is no such file
     * @throws IOException                        when it cannot be read or is not JSON
     */
    public static JsonNode parse(Path file) throws IOException {
        return parse(Files.readAllBytes(file));
    }

    /**
     * Reads one value from {@code parser}: from its current token if it has one (a {@code START_OBJECT}, say),
     * else from its next. Any jackson-core parser works, also one of another format's factory (TOML's).
     * Iterative, so nesting is bounded by jackson-core's {@code StreamReadConstraints} (1,000 levels), not by
     * the thread's stack.
     *
     * @param parser a parser positioned before or on a value
     * @return the value's tree; {@link MissingNode} when the input has ended
     * @throws IOException when the input is not well-formed
     */
    public static JsonNode read(JsonParser parser) throws IOException {
        JsonToken token = parser.hasCurrentToken() ? parser.currentToken() : parser.nextToken();
        if (token == null) {
            return MissingNode.getInstance();
        }
        ArrayDeque<ContainerNode<?>> open = new ArrayDeque<>();
        JsonNode root = null;
        while (true) {
            if (token == JsonToken.END_OBJECT || token == JsonToken.END_ARRAY) {
                open.pop();
                if (open.isEmpty()) {
                    return root;
                }
            } else {
                String name = null;
                if (token == JsonToken.FIELD_NAME) {
                    name = parser.currentName();
                    token = next(parser);
                }
                JsonNode node = switch (token) {
                    case START_OBJECT -> NODES.objectNode();
                    case START_ARRAY -> NODES.arrayNode();
                    default -> scalar(parser, token);
                };
                ContainerNode<?> parent = open.peek();
                if (parent == null) {
                    root = node;
                } else if (parent instanceof ObjectNode object) {
                    object.set(name, node);
                } else {
                    ((ArrayNode) parent).add(node);
                }
                if (node instanceof ContainerNode<?> container) {
                    open.push(container);
                } else if (parent == null) {
                    return root;
                }
            }
            token = next(parser);
        }
    }

    private static JsonToken next(JsonParser parser) throws IOException {
        JsonToken token = parser.nextToken();
        if (token == null) {
            throw new JsonEOFException(parser, null, "unexpected end of JSON input inside a value");
        }
        return token;
    }

    private static JsonNode scalar(JsonParser parser, JsonToken token) throws IOException {
        return switch (token) {
            case VALUE_STRING -> NODES.textNode(parser.getText());
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT -> NODES.numberNode(parser.getIntValue());
                case LONG -> NODES.numberNode(parser.getLongValue());
                default -> NODES.numberNode(parser.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            case VALUE_EMBEDDED_OBJECT -> NODES.pojoNode(parser.getEmbeddedObject());
            default -> throw new com.fasterxml.jackson.core.JsonParseException(parser,
                    "unexpected token " + token + " where a JSON value belongs");
        };
    }

    /**
     * Writes {@code tree} as compact JSON.
     *
     * @param tree any tree built of JSON values (no {@code POJONode}, no {@link MissingNode})
     * @return UTF-8 JSON text
     * @throws IllegalArgumentException for a node that is not a JSON value
     */
    public static byte[] toBytes(JsonNode tree) {
        return write(tree, false).toByteArray();
    }

    /**
     * Writes {@code tree} as JSON text.
     *
     * @param tree   any tree built of JSON values
     * @param pretty Jackson's default pretty format instead of compact
     * @return the text
     * @throws IllegalArgumentException for a node that is not a JSON value
     */
    public static String toString(JsonNode tree, boolean pretty) {
        return write(tree, pretty).toString(StandardCharsets.UTF_8);
    }

    private static ByteArrayOutputStream write(JsonNode tree, boolean pretty) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator generator = FACTORY.createGenerator(out)) {
            if (pretty) {
                generator.useDefaultPrettyPrinter();
            }
            write(tree, generator);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Writes {@code tree} to {@code generator}.
     *
     * @param tree      any tree built of JSON values
     * @param generator where to write
     * @throws IOException              what the generator throws
     * @throws IllegalArgumentException for a node that is not a JSON value (a {@code POJONode} or {@link MissingNode})
     */
    public static void write(JsonNode tree, JsonGenerator generator) throws IOException {
        switch (tree.getNodeType()) {
            case OBJECT -> {
                generator.writeStartObject();
                for (Map.Entry<String, JsonNode> property : tree.properties()) {
                    generator.writeFieldName(property.getKey());
                    write(property.getValue(), generator);
                }
                generator.writeEndObject();
            }
            case ARRAY -> {
                generator.writeStartArray();
                for (JsonNode element : tree) {
                    write(element, generator);
                }
                generator.writeEndArray();
            }
            case STRING -> generator.writeString(tree.textValue());
            case NUMBER -> {
                switch (tree.numberType()) {
                    case INT -> generator.writeNumber(tree.intValue());
                    case LONG -> generator.writeNumber(tree.longValue());
                    case BIG_INTEGER -> generator.writeNumber(tree.bigIntegerValue());
                    case FLOAT -> generator.writeNumber(tree.floatValue());
                    case DOUBLE -> generator.writeNumber(tree.doubleValue());
                    case BIG_DECIMAL -> generator.writeNumber(tree.decimalValue());
                }
            }
            case BOOLEAN -> generator.writeBoolean(tree.booleanValue());
            case NULL -> generator.writeNull();
            case BINARY -> generator.writeBinary(tree.binaryValue());
            default -> throw new IllegalArgumentException(
                    "JSON tree: a " + tree.getNodeType() + " node is not a JSON value");
        }
    }
}
