package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code VmConfig.cpus} (OpenAPI {@code CpusConfig}).
 *
 * @param bootVcpus   vCPUs at boot (required, ≥ 1)
 * @param maxVcpus    vCPU ceiling for hot-plug (required, ≥ bootVcpus)
 * @param topology    optional topology, or null
 * @param maxPhysBits optional guest physical address bits, or null
 */
public record CpusConfig(int bootVcpus, int maxVcpus, CpuTopology topology, Integer maxPhysBits) {

    /** @return {@code {boot_vcpus, max_vcpus, topology, max_phys_bits}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("boot_vcpus", bootVcpus).put("max_vcpus", maxVcpus)
                .put("topology", topology, CpuTopology::toJson).put("max_phys_bits", maxPhysBits).node();
    }

    /**
     * Reads {@link #toJson()}'s shape (other keys such as {@code kvm_hyperv} ignored; absent vCPU counts read 0).
     *
     * @throws IOException for a value of the wrong type
     */
    static CpusConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new CpusConfig(f.int0("boot_vcpus"), f.int0("max_vcpus"), f.get("topology", CpuTopology::fromJson),
                f.integer("max_phys_bits"));
    }
}
