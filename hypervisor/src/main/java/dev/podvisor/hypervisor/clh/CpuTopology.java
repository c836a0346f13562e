package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * {@code CpusConfig.topology} (OpenAPI {@code CpuTopology}); null fields take Cloud Hypervisor's defaults.
 *
 * @param threadsPerCore threads per core
 * @param coresPerDie    cores per die
 * @param diesPerPackage dies per package
 * @param packages       packages (sockets)
 */
public record CpuTopology(Integer threadsPerCore, Integer coresPerDie, Integer diesPerPackage, Integer packages) {

    /** @return {@code {threads_per_core, cores_per_die, dies_per_package, packages}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("threads_per_core", threadsPerCore).put("cores_per_die", coresPerDie)
                .put("dies_per_package", diesPerPackage).put("packages", packages).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored.
     *
     * @throws IOException for a value of the wrong type
     */
    static CpuTopology fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new CpuTopology(f.integer("threads_per_core"), f.integer("cores_per_die"),
                f.integer("dies_per_package"), f.integer("packages"));
    }
}
