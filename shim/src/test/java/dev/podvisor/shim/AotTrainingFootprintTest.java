package dev.podvisor.shim;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shim's AOT cache holds what its training loads, and a JVM started with the cache maps and links every class of
 * it, so a class family the training pulls in costs memory in every pod's shim (docs/decisions/0010). The training
 * walks the daemon's and start's paths (no argument), or delete's ({@code delete}, its own small cache); these must
 * not need Jackson databind's ObjectMapper, nor protobuf-java's descriptors (building a generated file's
 * {@code FileDescriptor} parses it with {@code DescriptorProtos}, ~0.9 MB of cache pages per shim), nor
 * {@code DateTimeFormatter} (about 100 classes with its chronology and locale data, decision 0011).
 */
class AotTrainingFootprintTest {

    @ParameterizedTest
    @ValueSource(strings = {"daemon", "delete"})
    void theTrainedPathsLoadNoObjectMapperDescriptorsNorDateFormatter(String training) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new java.util.ArrayList<>(List.of(java.toString(), "-verbose:class",
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), AotTraining.class.getName()));
        if (training.equals("delete")) {
            command.add("delete");
        }
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out;
        try (var stdout = process.getInputStream()) {
            out = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            if (!process.waitFor(2, TimeUnit.MINUTES)) {
                process.destroyForcibly();
            }
        }
        assertEquals(0, process.exitValue(), out.lines().filter(l -> !l.startsWith("[")).toList().toString());
        assertTrue(out.contains(" dev.podvisor.shim.AotTraining "), "the training ran with class logging");
        List<String> mappers = out.lines()
                .filter(l -> l.contains("com.fasterxml.jackson.databind.ObjectMapper ")
                        || l.contains("com.fasterxml.jackson.databind.ser.BeanSerializerFactory ")
                        || l.contains("com.fasterxml.jackson.databind.deser.BeanDeserializerFactory "))
                .toList();
        assertEquals(List.of(), mappers, "databind's mapper machinery was loaded by the trained paths");
        List<String> descriptors = out.lines()
                .filter(l -> l.contains("com.google.protobuf.DescriptorProtos$FileDescriptorProto ")
                        || l.contains("com.google.protobuf.Descriptors$FileDescriptor "))
                .toList();
        assertEquals(List.of(), descriptors, "protobuf's descriptor machinery was loaded by the trained paths (find the"
                + " cause with -XX:+UnlockDiagnosticVMOptions -XX:LogClassLoadingCauseFor=<class> -Xlog:class+load+cause=info)");
        List<String> formatters = out.lines().filter(l -> l.contains("java.time.format.DateTimeFormatter ")).toList();
        assertEquals(List.of(), formatters, "DateTimeFormatter was loaded by the trained paths");
    }
}
