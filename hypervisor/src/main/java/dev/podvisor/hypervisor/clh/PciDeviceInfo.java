package dev.podvisor.hypervisor.clh;

/**
 * Cloud Hypervisor's answer to a hot-plug (OpenAPI {@code PciDeviceInfo}).
 *
 * @param id  device id, e.g. {@code _disk2}; needed for {@code vm.remove-device}
 * @param bdf PCI address {@code SSSS:BB:DD.F}; {@link PciPaths#fromBdf(String)} turns it into a PCI path
 */
public record PciDeviceInfo(String id, String bdf) {
}
