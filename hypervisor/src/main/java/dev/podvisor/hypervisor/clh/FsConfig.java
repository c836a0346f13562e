package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;

/**
 * A virtio-fs device backed by a vhost-user daemon (virtiofsd): {@code VmConfig.fs[]} and the body of
 * {@code PUT vm.add-fs} (OpenAPI {@code FsConfig}).
 *
 * @param tag        mount tag the guest uses (Kata: {@code kataShared})
 * @param socket     host path of virtiofsd's vhost-user socket
 * @param numQueues  request queues (Kata: 1)
 * @param queueSize  queue size (Kata default 1024)
 * @param pciSegment PCI segment, or null (segment 0)
 * @param id         device id, or null (Cloud Hypervisor chooses {@code _fsN})
 */
public record FsConfig(String tag, String socket, int numQueues, int queueSize, Integer pciSegment, String id) {

    /**
     * An FsConfig with one queue, no segment and no id, as Kata sends at VM creation.
     *
     * @param tag       the mount tag
     * @param socket    virtiofsd's socket
     * @param queueSize the queue size ({@code virtio_fs_queue_size}, Kata default 1024)
     * @return the config
     */
    public static FsConfig of(String tag, String socket, int queueSize) {
        return new FsConfig(tag, socket, 1, queueSize, null, null);
    }

    /** @return {@code {tag, socket, num_queues, queue_size, pci_segment, id}}, nulls left out */
    public ObjectNode toJson() {
        return new ClhObject().put("tag", tag).put("socket", socket).put("num_queues", numQueues)
                .put("queue_size", queueSize).put("pci_segment", pciSegment).put("id", id).node();
    }

    /**
     * Reads {@link #toJson()}'s shape; unknown keys ignored, absent queue numbers read 0.
     *
     * @throws IOException for a value of the wrong type
     */
    static FsConfig fromJson(JsonNode json, String at) throws IOException {
        ClhFields f = ClhFields.of(json, at);
        return new FsConfig(f.text("tag"), f.text("socket"), f.int0("num_queues"), f.int0("queue_size"),
                f.integer("pci_segment"), f.text("id"));
    }
}
