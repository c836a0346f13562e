package dev.podvisor.hypervisor.clh;

/**
 * {@code VmConfig.serial} and {@code VmConfig.console} (OpenAPI {@code ConsoleConfig}).
 *
 * @param mode   output mode (required)
 * @param file   output file for {@link ConsoleMode#FILE}, or null
 * @param socket socket for {@link ConsoleMode#SOCKET}, or null
 * @param iommu  behind the virtual IOMMU, or null
 */
public record ConsoleConfig(ConsoleMode mode, String file, String socket, Boolean iommu) {

    /**
     * A console in {@code mode} without file, socket or iommu.
     *
     * @param mode the mode
     * @return the config
     */
    public static ConsoleConfig of(ConsoleMode mode) {
        return new ConsoleConfig(mode, null, null, null);
    }
}
