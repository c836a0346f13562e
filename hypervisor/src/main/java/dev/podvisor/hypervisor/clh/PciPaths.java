package dev.podvisor.hypervisor.clh;

import java.util.regex.Pattern;

/**
 * PCI paths from Cloud Hypervisor's PCI addresses. Cloud Hypervisor puts every device on bus 0 without
 * bridges, so the guest PCI path of a device is just its slot. Follows Kata's {@code clhPciInfoToPath}
 * ({@code src/runtime/virtcontainers/clh.go}): anything but segment 0000, bus 00, function 0 and a two-digit
 * slot is an error.
 */
public final class PciPaths {
    private static final Pattern BDF = Pattern.compile("0000:00:([0-9a-fA-F]{2})\\.0");
    private static final int MAX_SLOT = 0x1f;

    private PciPaths() {
    }

    /**
     * The PCI path of a device hot-plugged by Cloud Hypervisor.
     *
     * @param bdf the {@code bdf} of {@link PciDeviceInfo}, e.g. {@code 0000:00:05.0}
     * @return the PCI path, the slot as two lower-case hex digits, e.g. {@code 05}
     * @throws IllegalArgumentException if {@code bdf} is null, not {@code 0000:00:DD.0}, or the slot exceeds 1f
     */
    public static String fromBdf(String bdf) {
        if (bdf == null) {
            throw new IllegalArgumentException("PCI address from cloud-hypervisor: missing");
        }
        var m = BDF.matcher(bdf);
        if (!m.matches()) {
            throw new IllegalArgumentException("PCI address from cloud-hypervisor '" + bdf
                    + "': expected 0000:00:DD.0 (segment 0, bus 0, function 0)");
        }
        String slot = m.group(1).toLowerCase(java.util.Locale.ROOT);
        if (Integer.parseInt(slot, 16) > MAX_SLOT) {
            throw new IllegalArgumentException("PCI address from cloud-hypervisor '" + bdf
                    + "': slot 0x" + slot + " exceeds 0x1f");
        }
        return slot;
    }
}
