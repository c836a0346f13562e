package dev.podvisor.hypervisor.clh;

/**
 * A virtio-pmem device (OpenAPI {@code PmemConfig}); Kata boots a guest image this way (runtime-rs
 * {@code ch-config/src/convert.rs}, Go {@code clh.go}: {@code discard_writes true}).
 *
 * @param file          host path of the image (required)
 * @param size          size in bytes, or null (file size)
 * @param iommu         behind the virtual IOMMU, or null
 * @param discardWrites map privately so guest writes never reach the file, or null
 * @param pciSegment    PCI segment, or null
 * @param id            device id, or null
 */
public record PmemConfig(String file, Long size, Boolean iommu, Boolean discardWrites, Integer pciSegment,
                         String id) {
}
