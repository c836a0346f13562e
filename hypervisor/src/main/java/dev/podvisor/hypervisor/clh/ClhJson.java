package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * The JSON mapping of Cloud Hypervisor's REST bodies: snake_case keys (as in Cloud Hypervisor's
 * {@code vmm/src/api/openapi/cloud-hypervisor.yaml}), null fields left out (so Cloud Hypervisor applies its
 * serde defaults), unknown fields in answers ignored (newer Cloud Hypervisor versions add fields).
 */
public final class ClhJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .serializationInclusion(JsonInclude.Include.NON_NULL)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private ClhJson() {
    }

    /**
     * The shared, thread-safe mapper for Cloud Hypervisor bodies.
     *
     * @return the mapper (do not reconfigure it)
     */
    public static ObjectMapper mapper() {
        return MAPPER;
    }
}
