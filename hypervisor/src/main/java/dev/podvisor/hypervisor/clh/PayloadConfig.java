package dev.podvisor.hypervisor.clh;

/**
 * {@code VmConfig.payload}: what Cloud Hypervisor boots (OpenAPI {@code PayloadConfig}, v28+ layout).
 *
 * @param kernel    host path of the guest kernel (vmlinux), or null
 * @param cmdline   kernel command line, or null
 * @param initramfs host path of the initrd, or null
 * @param firmware  host path of a firmware, or null (Podvisor never sets it)
 */
public record PayloadConfig(String kernel, String cmdline, String initramfs, String firmware) {
}
