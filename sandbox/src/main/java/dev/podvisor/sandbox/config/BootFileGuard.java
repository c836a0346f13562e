package dev.podvisor.sandbox.config;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * Checks of the boot settings an annotation may change (issue 8, case 9), in the manner of Kata's
 * {@code valid_hypervisor_paths} check ({@link PathGlobs}: a glob match and an existing file):
 * <ul>
 *   <li>a {@code kernel}, {@code image}, {@code initrd} or {@code firmware} annotation must name an absolute path
 *       matched by {@code [hypervisor.clh] valid_kernel_paths}; when that list is empty, the default allows the
 *       files beside the configured one ({@code <directory of the configured file>/*}), so an operator can ship
 *       alternative kernels next to the default one while {@code hypervisor.kernel=/etc/shadow} is refused;</li>
 *   <li>{@code kernel_params} (configured and appended from the annotation) is at most
 *       {@value #MAX_KERNEL_PARAMS_BYTES} bytes, x86's {@code COMMAND_LINE_SIZE}: a longer command line would
 *       be cut by the guest kernel anyway.</li>
 * </ul>
 * An empty annotation value is accepted (it clears {@code image}/{@code initrd}, as in Kata).
 */
final class BootFileGuard {

    /** Linux x86 {@code COMMAND_LINE_SIZE}. */
    static final int MAX_KERNEL_PARAMS_BYTES = 2048;

    private BootFileGuard() {
    }

    /**
     * @param config     the configuration before annotations
     * @param configured the configured value of the same key (its directory is the default allowed place)
     * @param key        the annotation key, for the error
     * @param value      the annotation value
     * @return {@code value}
     * @throws ConfigException {@code annotation <key> = "<value>": ... not matched by ... valid_kernel_paths}
     */
    static String check(HypervisorConfig config, String configured, String key, String value) {
        if (value.isEmpty()) {
            return value;
        }
        List<String> globs = allowedGlobs(config, configured);
        if (!value.startsWith("/") || List.of(value.split("/")).contains("..") || !PathGlobs.allowed(globs, value)) {
            throw new ConfigException("annotation " + key + " = \"" + value + "\": path not allowed (not an existing"
                    + " file matched by [hypervisor.clh] valid_kernel_paths " + globs + ")");
        }
        return value;
    }

    /** {@code valid_kernel_paths}, or {@code <dir of configured>/*} when it is empty. */
    static List<String> allowedGlobs(HypervisorConfig config, String configured) {
        if (!config.validKernelPaths().isEmpty()) {
            return config.validKernelPaths();
        }
        String reference = configured.isEmpty() ? config.kernel() : configured;
        Path dir = Path.of(reference).getParent();
        return dir == null ? List.of() : List.of(dir.resolve("*").toString());
    }

    /**
     * @param kernelParams the whole kernel command line the configuration (and annotation) asks for
     * @param where        the setting, for the error
     * @throws ConfigException {@code <where>: kernel_params is N bytes, at most 2048 ...}
     */
    static void checkKernelParams(String kernelParams, String where) {
        int bytes = kernelParams.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_KERNEL_PARAMS_BYTES) {
            throw new ConfigException(where + ": kernel_params is " + bytes + " bytes, at most "
                    + MAX_KERNEL_PARAMS_BYTES + " are allowed (the guest kernel's COMMAND_LINE_SIZE)");
        }
    }
}
