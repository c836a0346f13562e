package dev.podvisor.sandbox;

import dev.podvisor.hypervisor.clh.CloudHypervisorApiException;
import dev.podvisor.sandbox.log.LogfmtLog;
import dev.podvisor.sandbox.metrics.PodMetrics;

import java.io.IOException;
import java.util.Objects;

/**
 * Hot-unplugs a disk when its last container is gone ({@code vm.remove-device}, after the agent's
 * RemoveContainer unmounted it in the guest), without ever failing the container's delete: containerd's
 * {@code Delete} must succeed once the container is gone from the guest, whatever the VMM says about the device.
 *
 * <ul>
 *   <li>Cloud Hypervisor answers 204: the device is gone (its PCI slot is free, the host file is closed).</li>
 *   <li>404 (CH post-v53: {@code Failed to find device corresponding to the given identifier: <id>}): it is gone
 *       already, which is what was wanted; logged at info.</li>
 *   <li>Anything else (500, a VMM that does not answer): logged as a warning naming the device and counted in
 *       {@code podvisor_device_unplug_errors_total{device="disk"}}; the device stays attached until the VM
 *       stops at sandbox end, which releases it.</li>
 * </ul>
 */
final class DiskUnplug {

    /** The VMM call: {@code vm.remove-device} of one id; throws what the client throws. */
    @FunctionalInterface
    interface RemoveDevice {
        void remove(String deviceId) throws IOException;
    }

    private final RemoveDevice vmm;
    private final LogfmtLog log;
    private final PodMetrics metrics;

    /**
     * @param vmm     {@code vm.remove-device}
     * @param log     where the outcome goes
     * @param metrics where a failure is counted
     */
    DiskUnplug(RemoveDevice vmm, LogfmtLog log, PodMetrics metrics) {
        this.vmm = Objects.requireNonNull(vmm);
        this.log = Objects.requireNonNull(log);
        this.metrics = Objects.requireNonNull(metrics);
    }

    /**
     * Unplugs {@code deviceId}; never throws.
     *
     * @return true when the device is gone (removed now, or unknown to the VMM), false when the removal failed
     */
    boolean unplug(String deviceId) {
        try {
            vmm.remove(deviceId);
            log.info("disk detached", "id", deviceId);
            return true;
        } catch (CloudHypervisorApiException e) {
            if (e.statusCode() == 404) {
                log.info("disk already gone from the VM", "id", deviceId, "error", e.getMessage());
                return true;
            }
            return failed(deviceId, e);
        } catch (IOException | RuntimeException e) {
            return failed(deviceId, e);
        }
    }

    private boolean failed(String deviceId, Exception e) {
        metrics.unplugFailed("disk");
        log.warn("vm.remove-device failed; the disk stays attached until the VM stops", "id", deviceId,
                "error", String.valueOf(e.getMessage()));
        return false;
    }
}
