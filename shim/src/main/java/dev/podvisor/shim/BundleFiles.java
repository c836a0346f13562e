package dev.podvisor.shim;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The files a shim reads and writes in a container's bundle directory: {@code config.json} (OCI spec, read
 * for its annotations), {@code address} (written for every container, read by containerd 1.6/1.7 to
 * reconnect), {@code shim.pid} (the daemon's pid) and {@code podvisor-sandbox} (which state directory and
 * sandbox serve this container, for {@code delete} after the daemon is gone).
 */
final class BundleFiles {

    static final String ADDRESS = "address";
    static final String SHIM_PID = "shim.pid";
    static final String SANDBOX_LINK = "podvisor-sandbox";

    private BundleFiles() {
    }

    /**
     * The annotations of {@code <bundle>/config.json}, read with Jackson's streaming parser only (start must
     * stay light).
     *
     * @throws IllegalArgumentException naming the file when it is missing or not JSON
     */
    static Map<String, String> annotations(Path bundle) {
        Path config = bundle.resolve("config.json");
        Map<String, String> annotations = new HashMap<>();
        try (JsonParser parser = new JsonFactory().createParser(config.toFile())) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException(config + ": not a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                if (field.equals("annotations") && value == JsonToken.START_OBJECT) {
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String key = parser.currentName();
                        parser.nextToken();
                        annotations.put(key, parser.getValueAsString(""));
                    }
                } else {
                    parser.skipChildren();
                }
            }
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            throw new IllegalArgumentException(config + ": no such file");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(config + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(config + ": " + e.getMessage(), e);
        }
        return annotations;
    }

    /** Writes {@code name} in the bundle atomically (temp file + rename). */
    static void write(Path bundle, String name, String content) {
        try {
            Path temp = bundle.resolve("." + name + ".tmp");
            Files.writeString(temp, content, StandardCharsets.UTF_8);
            Files.move(temp, bundle.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + bundle.resolve(name) + ": " + e.getMessage(), e);
        }
    }

    static Optional<String> read(Path bundle, String name) {
        try {
            return Optional.of(Files.readString(bundle.resolve(name), StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException | java.io.FileNotFoundException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + bundle.resolve(name) + ": " + e.getMessage(), e);
        }
    }
}
