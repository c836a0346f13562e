package dev.podvisor.hypervisor.clh;

/**
 * Body of {@code PUT vm.remove-device} (OpenAPI {@code VmRemoveDevice}).
 *
 * @param id the device id Cloud Hypervisor returned in {@link PciDeviceInfo#id()}
 */
public record VmRemoveDevice(String id) {
}
