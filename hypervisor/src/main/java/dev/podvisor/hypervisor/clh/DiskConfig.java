package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * A virtio-blk disk: {@code VmConfig.disks[]} and the body of {@code PUT vm.add-disk} (OpenAPI
 * {@code DiskConfig}). Null fields are left out and take Cloud Hypervisor's defaults (readonly false, direct
 * false, num_queues 1, queue_size 128, sparse true).
 *
 * @param path        host path of the image file or block device
 * @param readonly    read-only disk, or null
 * @param direct      O_DIRECT, or null
 * @param iommu       behind the virtual IOMMU, or null
 * @param numQueues   virtqueues, or null
 * @param queueSize   virtqueue size, or null
 * @param vhostUser   vhost-user-blk, or null
 * @param vhostSocket vhost-user socket path, or null
 * @param pciSegment  PCI segment, or null (segment 0)
 * @param id          device id (Cloud Hypervisor chooses {@code _diskN} when null)
 * @param serial      serial number, or null
 * @param imageType   {@code "Raw"}, {@code "Qcow2"}, {@code "Vhdx"}, {@code "FixedVhd"}, or null (Cloud
 *                    Hypervisor probes the image; the key exists from Cloud Hypervisor v51.1)
 * @param sparse      allow sparse images, or null
 */
public record DiskConfig(String path, Boolean readonly, Boolean direct, Boolean iommu, Integer numQueues,
                         Integer queueSize, Boolean vhostUser, String vhostSocket, Integer pciSegment, String id,
                         String serial, String imageType, Boolean sparse) {

    /**
     * The disk Kata's Go runtime hot-plugs for a block device ({@code clh.go hotplugAddBlockDevice}): the
     * given path, readonly flag, {@code vhost_user false}, the given queues and queue size; no image type
     * (Cloud Hypervisor versions before v51.1 do not know the key).
     *
     * @param path      host path of the image file or block device
     * @param readonly  whether the guest may not write
     * @param numQueues virtqueues (Kata: the sandbox's vCPUs)
     * @param queueSize virtqueue size (Kata Go: 1024)
     * @return the disk config, id left to Cloud Hypervisor
     */
    public static DiskConfig blockDevice(String path, boolean readonly, int numQueues, int queueSize) {
        return new DiskConfig(path, readonly, null, null, numQueues, queueSize, false, null, null, null, null,
                null, null);
    }

    /**
     * The same disk with another device id.
     *
     * @param newId the device id
     * @return a copy with {@code id = newId}
     */
    public DiskConfig withId(String newId) {
        return new DiskConfig(path, readonly, direct, iommu, numQueues, queueSize, vhostUser, vhostSocket,
                pciSegment, newId, serial, imageType, sparse);
    }

    /**
     * @return {@code {path, readonly, direct, iommu, num_queues, queue_size, vhost_user, vhost_socket,
     *         pci_segment, id, serial, image_type, sparse}}, nulls left out
     */
    public ObjectNode toJson() {
        return new ClhObject().put("path", path).put("readonly", readonly).put("direct", direct)
                .put("iommu", iommu).put("num_queues", numQueues).put("queue_size", queueSize)
                .put("vhost_user", vhostUser).put("vhost_socket", vhostSocket).put("pci_segment", pciSegment)
                .put("id", id).put("serial", serial).put("image_type", imageType).put("sparse", sparse).node();
    }

    /**
     * Reads {@link #toJson()}'s shape (other keys such as {@code rate_limiter_config} ignored).
     *
     * @throws IOException for a value of the wrong type
     */
    static DiskConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new DiskConfig(f.text("path"), f.bool("readonly"), f.bool("direct"), f.bool("iommu"),
                f.integer("num_queues"), f.integer("queue_size"), f.bool("vhost_user"), f.text("vhost_socket"),
                f.integer("pci_segment"), f.text("id"), f.text("serial"), f.text("image_type"), f.bool("sparse"));
    }
}
