package dev.podvisor.hypervisor.clh;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A virtio-net device: the body of {@code PUT vm.add-net} (OpenAPI {@code NetConfig}). Null fields are left
 * out and take Cloud Hypervisor's defaults. The tap fds never travel in the body: they go as
 * {@code SCM_RIGHTS} with the request ({@link CloudHypervisorClient#addNet}); Cloud Hypervisor ignores
 * {@code fds} numbers in a body and takes no fds at all on {@code vm.create}.
 *
 * @param tap         a tap name for Cloud Hypervisor to open itself, or null (never set with fds: the name
 *                    would win over them)
 * @param ip          the host-side IP Cloud Hypervisor gives a tap it creates; ignored with fds
 * @param mask        the netmask for {@code ip}; ignored with fds
 * @param mac         the guest NIC's MAC, e.g. {@code 02:42:0a:58:00:05}
 * @param mtu         an MTU for Cloud Hypervisor to set on the tap, or null (it then advertises the tap's)
 * @param iommu       behind the virtual IOMMU
 * @param numQueues   virtqueues in total: 2 per queue pair, so 2 × the number of fds sent
 * @param queueSize   virtqueue size
 * @param vhostUser   vhost-user backend
 * @param vhostMode   {@code "Client"} or {@code "Server"}
 * @param id          device id, or null ({@code _net<N>})
 * @param offloadTso  offer TSO to the guest
 * @param offloadUfo  offer UFO to the guest
 * @param offloadCsum offer checksum offload to the guest
 */
public record NetConfig(String tap, String ip, String mask, String mac, Integer mtu, Boolean iommu,
                        Integer numQueues, Integer queueSize, Boolean vhostUser, String vhostMode, String id,
                        Boolean offloadTso, Boolean offloadUfo, Boolean offloadCsum) {

    /** The OpenAPI default {@code ip} Kata Go's generated client fills in. */
    public static final String DEFAULT_IP = "192.168.249.1";
    /** The OpenAPI default {@code mask}. */
    public static final String DEFAULT_MASK = "255.255.255.0";

    /**
     * The body Kata Go sends for a tcfilter NIC ({@code clh.go addNet} on {@code chclient.NewNetConfig()}):
     * the OpenAPI defaults ({@code ip}, {@code mask}, 2 queues of 256, no vhost-user, mode Client, every
     * offload on), the guest {@code mac}, {@code iommu} false; no tap, no id, no mtu. It goes with one tap fd
     * (one queue pair).
     *
     * @param mac the guest NIC's MAC, which is the pod veth's MAC (the CNI bridge expects frames from it)
     */
    public static NetConfig forTapFd(String mac) {
        return new NetConfig(null, DEFAULT_IP, DEFAULT_MASK, mac, null, false, 2, 256, false, "Client", null,
                true, true, true);
    }

    /** The queue pairs this config asks for: the number of tap fds Cloud Hypervisor expects with it. */
    public int queuePairs() {
        return (numQueues == null ? 2 : numQueues) / 2;
    }

    /**
     * @return {@code {tap, ip, mask, mac, mtu, iommu, num_queues, queue_size, vhost_user, vhost_mode, id,
     *         offload_tso, offload_ufo, offload_csum}}, nulls left out
     */
    public ObjectNode toJson() {
        return new ClhObject().put("tap", tap).put("ip", ip).put("mask", mask).put("mac", mac).put("mtu", mtu)
                .put("iommu", iommu).put("num_queues", numQueues).put("queue_size", queueSize)
                .put("vhost_user", vhostUser).put("vhost_mode", vhostMode).put("id", id)
                .put("offload_tso", offloadTso).put("offload_ufo", offloadUfo).put("offload_csum", offloadCsum)
                .node();
    }
}
