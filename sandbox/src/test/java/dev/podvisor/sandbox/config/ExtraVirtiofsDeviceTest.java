package dev.podvisor.sandbox.config;

import dev.podvisor.storage.virtiofs.ShellWords;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExtraVirtiofsDeviceTest {
    private static final String WHERE = "[hypervisor.clh] extra_virtiofs";

    @Test
    void parsesNameAndShellWords() {
        ExtraVirtiofsDevice d = ExtraVirtiofsDevice.parse(
                "dev1: -o xattr,cache=none --log-level \"debug\" --cache='never' --thread-pool-size\\=2", WHERE);
        assertEquals("dev1", d.name());
        assertEquals(List.of("-o", "xattr,cache=none", "--log-level", "debug", "--cache=never", "--thread-pool-size=2"),
                d.virtiofsdArgs());
        assertEquals(List.of(), ExtraVirtiofsDevice.parse("plain:", WHERE).virtiofsdArgs());
        // the name ends at the first ':'; a ':' further on belongs to the arguments (and is refused there)
        assertBad("n:a:b", "virtiofsd argument 'a:b' is not allowed");
    }

    private static void assertBad(String entry, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> ExtraVirtiofsDevice.parse(entry, WHERE));
        assertTrue(e.getMessage().startsWith(WHERE + ": entry \"" + entry + "\": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), () -> e.getMessage() + " does not contain " + expected);
    }

    @Test
    void badEntriesAreNamed() {
        assertBad("nocolon", "expected <name>:<virtiofsd args>");
        assertBad(":-o cache=none", "name '': empty");
        assertBad("kataShared:-o cache=none", "reserved for the default virtio-fs device");
        assertBad("a".repeat(37) + ":", "longer than 36 bytes");
        assertBad("bad/name:", "only letters, digits");
        assertBad("..:", "only letters, digits");
        assertBad("dev:-o 'cache=none", "unterminated single quote");
        assertBad("dev:-o \"cache=none", "unterminated double quote");
        assertBad("dev:-o x\\", "trailing backslash");
        assertBad("dev:--shared-dir=/tmp", "virtiofsd argument '--shared-dir=/tmp' is not allowed (the shim sets it)");
        assertBad("dev:--socket-path /tmp/s", "virtiofsd argument '--socket-path' is not allowed (the shim sets it)");
        assertBad("dev:--socket=/tmp/s", "virtiofsd argument '--socket=/tmp/s' is not allowed");
        assertBad("dev:-o cache=none,source=/srv", "virtiofsd argument '-o source=/srv' is not allowed");
        assertBad("dev:-osource=/srv", "virtiofsd argument '-o source=/srv' is not allowed");
        assertBad("dev:--sandbox=none", "virtiofsd argument '--sandbox=none' is not allowed");
    }

    @Test
    void tagLimitCountsBytes() {
        assertEquals(36, ExtraVirtiofsDevice.parse("a".repeat(36) + ":", WHERE).name().length());
        // 'é' is two bytes in UTF-8 and not allowed anyway, but the length check comes first
        assertBad("é".repeat(19) + ":", "longer than 36 bytes");
    }

    @Test
    void namesMustBeUnique() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ExtraVirtiofsDevice.parseAll(List.of("a:-o xattr", "b:", "a:"), WHERE));
        assertEquals(WHERE + ": extra virtio-fs device 'a' is declared twice", e.getMessage());
        assertEquals(2, ExtraVirtiofsDevice.parseAll(List.of("a:", "b:"), WHERE).size());
    }

    @Test
    void shellWordsEdgeCases() {
        assertEquals(List.of(), ShellWords.split("   "));
        assertEquals(List.of(""), ShellWords.split("''"));
        assertEquals(List.of("a\"b", "c$d"), ShellWords.split("\"a\\\"b\" \"c\\$d\""));
        assertEquals(List.of("a\\nb"), ShellWords.split("'a\\nb'"));
        assertEquals(List.of("ab"), ShellWords.split("a\"\"b"));
    }

    @Test
    void goGlobSemantics() {
        assertTrue(PathGlobs.matches("/usr/bin/cloud-hypervisor*", "/usr/bin/cloud-hypervisor-v40"));
        assertFalse(PathGlobs.matches("/usr/bin/*", "/usr/bin/sub/ch"));
        assertTrue(PathGlobs.matches("/opt/kata/bin/?h", "/opt/kata/bin/ch"));
        assertTrue(PathGlobs.matches("/x/[a-c]d", "/x/bd"));
        assertFalse(PathGlobs.matches("/x/[^a-c]d", "/x/bd"));
        assertTrue(PathGlobs.matches("/x/[^a-c]d", "/x/zd"));
        assertTrue(PathGlobs.matches("/x/\\*", "/x/*"));
        assertFalse(PathGlobs.matches("/x/\\*", "/x/y"));
        assertFalse(PathGlobs.matches("/x/[", "/x/["), "malformed pattern matches nothing");
        assertTrue(PathGlobs.matches("/usr/bin/ch.v1", "/usr/bin/ch.v1"));
        assertFalse(PathGlobs.matches("/usr/bin/ch.v1", "/usr/bin/chXv1"), "dot is literal");
        assertFalse(PathGlobs.allowed(List.of(), "/bin/sh"), "empty list allows nothing");
    }
}
