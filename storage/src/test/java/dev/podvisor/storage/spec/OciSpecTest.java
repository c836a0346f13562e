package dev.podvisor.storage.spec;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OciSpecTest {

    private static final String CONFIG = """
            {"ociVersion":"1.2.0","process":{"terminal":true,"args":["sh"]},
             "root":{"path":"rootfs","readonly":true},
             "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
                       {"destination":"/data","source":"/srv/data","options":["rbind","ro"]},
                       {"destination":"/x","type":"none","source":"/srv/x","options":["bind"]}],
             "annotations":{"io.kubernetes.cri.container-type":"container"},
             "linux":{"resources":{"memory":{"limit":268435456},
                      "hugepageLimits":[{"pageSize":"2MB","limit":8388608},{"pageSize":"1GB","limit":0}]},
                      "namespaces":[{"type":"pid"}]}}
            """;

    private static OciSpec spec() {
        return OciSpec.parse(CONFIG.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void accessors() {
        OciSpec s = spec();
        assertEquals(3, s.mounts().size());
        assertEquals(new OciMount("/proc", "proc", "proc", List.of()), s.mounts().get(0));
        assertTrue(s.mounts().get(1).isBind(), "no type means bind");
        assertTrue(s.mounts().get(1).readOnly());
        assertTrue(s.mounts().get(2).isBind(), "type none with bind option");
        assertFalse(s.mounts().get(0).isBind());
        assertEquals(Map.of("io.kubernetes.cri.container-type", "container"), s.annotations());
        assertEquals("rootfs", s.rootPath().orElseThrow());
        assertTrue(s.rootReadonly());
        assertTrue(s.processTerminal());
        assertEquals(268435456L, s.memoryLimitBytes().orElseThrow());
        assertEquals(2, s.hugepageLimits().size());
        assertEquals(2L << 20, s.hugepageLimits().get(0).pageSizeBytes());
        assertEquals(1L << 30, s.hugepageLimits().get(1).pageSizeBytes());
        assertEquals("pid", s.raw().at("/linux/namespaces/0/type").asText());
    }

    @Test
    void withMountsAndRootPathKeepEverythingElse() {
        OciSpec s = spec();
        OciSpec g = s.withMounts(List.of(new OciMount("/data", "bind", "/run/x", List.of("rbind")))).withRootPath("/run/r");
        assertEquals(1, g.mounts().size());
        assertEquals("/run/r", g.rootPath().orElseThrow());
        assertTrue(g.rootReadonly());
        assertEquals("pid", g.raw().at("/linux/namespaces/0/type").asText());
        assertEquals(3, s.mounts().size(), "the original is unchanged");
        assertEquals(g, OciSpec.parse(g.toJson()));
    }

    @Test
    void namedErrors() {
        OciSpecException notJson = assertThrows(OciSpecException.class, () -> OciSpec.parse("{nope".getBytes(StandardCharsets.UTF_8)));
        assertTrue(notJson.getMessage().startsWith("config.json: not JSON"), notJson.getMessage());
        OciSpecException array = assertThrows(OciSpecException.class, () -> OciSpec.parse("[]".getBytes(StandardCharsets.UTF_8)));
        assertTrue(array.getMessage().contains("not a JSON object"), array.getMessage());
        OciSpecException dest = assertThrows(OciSpecException.class,
                () -> OciSpec.parse("{\"mounts\":[{\"type\":\"proc\"}]}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(dest.getMessage().contains("'mounts[0].destination'"), dest.getMessage());
        OciSpecException opts = assertThrows(OciSpecException.class,
                () -> OciSpec.parse("{\"mounts\":[{\"destination\":\"/a\",\"options\":\"ro\"}]}".getBytes(StandardCharsets.UTF_8)));
        assertTrue(opts.getMessage().contains("'mounts[0].options'"), opts.getMessage());
    }
}
