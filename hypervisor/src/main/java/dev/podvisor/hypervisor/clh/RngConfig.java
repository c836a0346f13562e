package dev.podvisor.hypervisor.clh;

/**
 * {@code VmConfig.rng} (OpenAPI {@code RngConfig}).
 *
 * @param src   host entropy source (Kata: {@code /dev/urandom})
 * @param iommu behind the virtual IOMMU, or null
 */
public record RngConfig(String src, Boolean iommu) {
}
