package dev.podvisor.hypervisor.clh;

/**
 * {@code VmConfig.vsock} (OpenAPI {@code VsockConfig}): Cloud Hypervisor's hybrid vsock, a guest vsock device
 * whose host side is a unix socket ({@code CONNECT <port>\n} handshake, see
 * {@link dev.podvisor.hypervisor.vsock.HybridVsock}).
 *
 * @param cid        guest context id (≥ 3; Kata: 3)
 * @param socket     host unix socket path
 * @param iommu      behind the virtual IOMMU, or null
 * @param pciSegment PCI segment, or null
 * @param id         device id, or null
 */
public record VsockConfig(long cid, String socket, Boolean iommu, Integer pciSegment, String id) {
}
