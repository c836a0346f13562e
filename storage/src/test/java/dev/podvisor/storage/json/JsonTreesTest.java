package dev.podvisor.storage.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.MissingNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JsonTrees reads and writes what ObjectMapper's readTree and writer did (the test may use the mapper). */
class JsonTreesTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final List<String> DOCUMENTS = List.of(
            "{}", "[]", "1", "\"text\"", "null", "true",
            "{\"a\":1,\"b\":[1,2,{\"c\":null}],\"d\":{\"e\":\"f\\u00e9\\n\"},\"g\":false}",
            "{\"int\":2147483647,\"long\":2147483648,\"big\":123456789012345678901234567890,\"neg\":-5,"
                    + "\"double\":1.5,\"exp\":1e300,\"small\":-0.0}",
            "[[[[[]]]],{\"k\":[{},{\"x\":[true,false,null]}]}]",
            "{\"dup\":1,\"dup\":2}");

    @Test
    void parsesAsReadTreeDoes() throws IOException {
        for (String doc : DOCUMENTS) {
            JsonNode expected = MAPPER.readTree(doc);
            assertEquals(expected, JsonTrees.parse(doc), doc);
            assertEquals(expected, JsonTrees.parse(doc.getBytes(StandardCharsets.UTF_8)), doc);
        }
        assertEquals(new BigInteger("123456789012345678901234567890"),
                JsonTrees.parse(DOCUMENTS.get(7)).get("big").bigIntegerValue());
        assertTrue(JsonTrees.parse(DOCUMENTS.get(7)).get("long").isLong());
        assertTrue(JsonTrees.parse(DOCUMENTS.get(7)).get("int").isInt());
    }

    @Test
    void writesAsTheMapperDid() throws IOException {
        var pretty = MAPPER.writer().with(SerializationFeature.INDENT_OUTPUT);
        for (String doc : DOCUMENTS) {
            JsonNode tree = MAPPER.readTree(doc);
            assertEquals(MAPPER.writeValueAsString(tree), new String(JsonTrees.toBytes(tree), StandardCharsets.UTF_8), doc);
            assertEquals(MAPPER.writeValueAsString(tree), JsonTrees.toString(tree, false), doc);
            assertEquals(pretty.writeValueAsString(tree), JsonTrees.toString(tree, true), doc);
        }
    }

    @Test
    void emptyInputIsMissingAndWhatFollowsTheValueIsNotRead() throws IOException {
        assertEquals(MissingNode.getInstance(), JsonTrees.parse(""));
        assertEquals(MissingNode.getInstance(), JsonTrees.parse("  \n"));
        assertEquals(JsonTrees.parse("{\"a\":1}"), JsonTrees.parse("{\"a\":1} trailing"));
    }

    @Test
    void malformedInputFailsWithJacksonsMessage() {
        for (String bad : List.of("{", "[1,", "{\"a\":}", "{\"a\" 1}", "nul", "{\"a\":1,}", "]")) {
            var e = assertThrows(JsonProcessingException.class, () -> JsonTrees.parse(bad), bad);
            assertFalse(e.getMessage().isBlank(), bad);
        }
    }

    @Test
    void deepNestingIsBoundedByTheParserNotTheStack() throws IOException {
        String ok = "[".repeat(1000) + "]".repeat(1000);
        assertEquals(MAPPER.readTree(ok), JsonTrees.parse(ok));
        String tooDeep = "[".repeat(1001) + "]".repeat(1001);
        assertThrows(StreamConstraintsException.class, () -> JsonTrees.parse(tooDeep));
    }

    @Test
    void readsFilesAndNamesAMissingOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("state.json");
        Files.writeString(file, "{\"pid\":42}");
        assertEquals(42, JsonTrees.parse(file).get("pid").intValue());
        assertThrows(NoSuchFileException.class, () -> JsonTrees.parse(dir.resolve("absent.json")));
    }

    @Test
    void refusesNodesThatAreNotJsonValues() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> JsonTrees.toBytes(JsonTrees.NODES.objectNode().set("m", MissingNode.getInstance())));
        assertTrue(e.getMessage().contains("MISSING"), e.getMessage());
    }
}
