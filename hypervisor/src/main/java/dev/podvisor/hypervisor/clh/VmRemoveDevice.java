package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Body of {@code PUT vm.remove-device} (OpenAPI {@code VmRemoveDevice}).
 *
 * @param id the device id Cloud Hypervisor returned in {@link PciDeviceInfo#id()}
 */
public record VmRemoveDevice(String id) {

    /** @return {@code {id}}, left out when null */
    public ObjectNode toJson() {
        return new ClhObject().put("id", id).node();
    }
}
