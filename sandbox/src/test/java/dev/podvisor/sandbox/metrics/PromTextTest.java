package dev.podvisor.sandbox.metrics;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PromTextTest {

    static final String SHIM = """
            # HELP rpc_ms RPC latency.
            # TYPE rpc_ms histogram
            rpc_ms_bucket{action="create",le="1.0"} 0
            rpc_ms_bucket{action="create",le="+Inf"} 1
            rpc_ms_count{action="create"} 1
            rpc_ms_sum{action="create"} 3.5
            # HELP threads Threads.
            # TYPE threads gauge
            threads 12
            # EOF
            """;

    @Test
    void samplesOfTwoDocumentsMergeIntoOneFamilyEachWithTheirLabels() {
        String merged = new PromText().add(SHIM, Map.of("sandbox_id", "a"))
                .add(SHIM.replace("12", "13"), Map.of("sandbox_id", "b")).render();
        assertEquals("""
                # HELP rpc_ms RPC latency.
                # TYPE rpc_ms histogram
                rpc_ms_bucket{sandbox_id="a",action="create",le="1.0"} 0
                rpc_ms_bucket{sandbox_id="a",action="create",le="+Inf"} 1
                rpc_ms_count{sandbox_id="a",action="create"} 1
                rpc_ms_sum{sandbox_id="a",action="create"} 3.5
                rpc_ms_bucket{sandbox_id="b",action="create",le="1.0"} 0
                rpc_ms_bucket{sandbox_id="b",action="create",le="+Inf"} 1
                rpc_ms_count{sandbox_id="b",action="create"} 1
                rpc_ms_sum{sandbox_id="b",action="create"} 3.5
                # HELP threads Threads.
                # TYPE threads gauge
                threads{sandbox_id="a"} 12
                threads{sandbox_id="b"} 13
                """, merged);
    }

    @Test
    void renamingAppliesToTheFamilyAndItsSamples() {
        String agent = """
                # HELP process_open_fds Open fds.
                # TYPE process_open_fds gauge
                process_open_fds 7
                kata_agent_total_rss 100
                """;
        PromText text = new PromText().add(agent, Map.of("cri_name", "web"),
                n -> n.startsWith("process_") ? "kata_agent_" + n : n);
        assertEquals(List.of("kata_agent_process_open_fds", "kata_agent_total_rss"),
                text.families().stream().map(PromText.Family::name).toList());
        assertEquals("""
                # HELP kata_agent_process_open_fds Open fds.
                # TYPE kata_agent_process_open_fds gauge
                kata_agent_process_open_fds{cri_name="web"} 7
                kata_agent_total_rss{cri_name="web"} 100
                """, text.render());
    }

    @Test
    void labelValuesAreEscapedAndEmptyLabelSetsFilled() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("a", "say \"hi\"\\\n");
        labels.put("b", "x");
        assertEquals("m{a=\"say \\\"hi\\\"\\\\\\n\",b=\"x\"} 1\n", new PromText().add("m{} 1\n", labels).render());
    }

    @Test
    void noLabelsLeavesSamplesAsTheyAre() {
        assertEquals("m{x=\"1\"} 2 1700000000\n", new PromText().add("m{x=\"1\"} 2 1700000000", Map.of()).render());
    }
}
