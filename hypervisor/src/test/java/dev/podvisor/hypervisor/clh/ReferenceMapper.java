package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;

import java.io.IOException;
import java.util.Map;

/**
 * The reflective ObjectMapper the product used for Cloud Hypervisor bodies before the explicit
 * {@code toJson}/{@code fromJson} code (SNAKE_CASE keys, NON_NULL, unknown keys ignored), rebuilt in test scope
 * as the reference the explicit code must match. {@link ConsoleMode} is written and read as the literal strings
 * its {@code @JsonProperty} annotations gave.
 */
final class ReferenceMapper {
    /** {@link ConsoleMode} constants and their JSON spelling (Cloud Hypervisor's openapi {@code ConsoleConfig.mode}). */
    static final Map<ConsoleMode, String> MODES = Map.of(ConsoleMode.OFF, "Off", ConsoleMode.PTY, "Pty",
            ConsoleMode.TTY, "Tty", ConsoleMode.FILE, "File", ConsoleMode.SOCKET, "Socket", ConsoleMode.NULL, "Null");

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule()
                    .addSerializer(ConsoleMode.class, new JsonSerializer<>() {
                        @Override
                        public void serialize(ConsoleMode mode, JsonGenerator gen, SerializerProvider provider)
                                throws IOException {
                            gen.writeString(MODES.get(mode));
                        }
                    })
                    .addDeserializer(ConsoleMode.class, new JsonDeserializer<>() {
                        @Override
                        public ConsoleMode deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                            String text = p.getText();
                            return MODES.entrySet().stream().filter(e -> e.getValue().equals(text))
                                    .map(Map.Entry::getKey).findFirst()
                                    .orElseThrow(() -> new IOException("mode " + text));
                        }
                    }))
            .build();

    private ReferenceMapper() {
    }
}
