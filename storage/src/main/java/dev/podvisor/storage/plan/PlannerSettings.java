package dev.podvisor.storage.plan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The parts of configuration.toml the planner reads.
 *
 * @param emptyDirMode          {@code [runtime] emptydir_mode}
 * @param disableBlockDeviceUse {@code [hypervisor.clh] disable_block_device_use}: true forces a block-device rootfs
 *                              onto the host-mount + virtio-fs path (Kata Go semantics)
 * @param extraVirtiofs         {@code [hypervisor.clh] extra_virtiofs}: device name (= virtio-fs tag) to the extra
 *                              arguments of its own virtiofsd, in configuration order
 * @param enableAnnotations     {@code [hypervisor.clh] enable_annotations}: regular expressions; a hypervisor
 *                              annotation {@code io.katacontainers.config.hypervisor.<name>} is honoured only when
 *                              one of them matches somewhere in {@code <name>}: Go's unanchored
 *                              {@code regexp.MatchString}, as Kata's oci/utils.go regexpContains (write
 *                              {@code ^name$} for an exact name); the same rule as the configuration's own gate
 * @param sandboxBindMounts     {@code [runtime] sandbox_bind_mounts}: host paths with an optional {@code @ro}
 *                              (default) or {@code @rw}, shared with the guest under
 *                              {@code /run/kata-containers/shared/containers/sandbox-mounts/<name>} (Kata
 *                              virtcontainers/sandbox.go setupSandboxBindMounts)
 */
public record PlannerSettings(
        EmptyDirMode emptyDirMode,
        boolean disableBlockDeviceUse,
        Map<String, List<String>> extraVirtiofs,
        List<String> enableAnnotations,
        List<String> sandboxBindMounts) {

    /** Settings without configured sandbox bind mounts. */
    public PlannerSettings(EmptyDirMode emptyDirMode, boolean disableBlockDeviceUse, Map<String, List<String>> extraVirtiofs,
                           List<String> enableAnnotations) {
        this(emptyDirMode, disableBlockDeviceUse, extraVirtiofs, enableAnnotations, List.of());
    }

    public PlannerSettings {
        emptyDirMode = emptyDirMode == null ? EmptyDirMode.SHARED_FS : emptyDirMode;
        Map<String, List<String>> copy = new LinkedHashMap<>();
        if (extraVirtiofs != null) {
            extraVirtiofs.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        }
        extraVirtiofs = java.util.Collections.unmodifiableMap(copy);
        enableAnnotations = enableAnnotations == null ? List.of() : List.copyOf(enableAnnotations);
        sandboxBindMounts = sandboxBindMounts == null ? List.of() : List.copyOf(sandboxBindMounts);
        for (String regex : enableAnnotations) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("enable_annotations '" + regex + "': not a regular expression: " + e.getDescription(), e);
            }
        }
    }

    /** shared-fs emptyDirs, block devices allowed, no extra virtio-fs device, no annotation enabled. */
    public static PlannerSettings defaults() {
        return new PlannerSettings(EmptyDirMode.SHARED_FS, false, Map.of(), List.of());
    }

    /** Whether {@code io.katacontainers.config.hypervisor.<name>} is enabled by {@link #enableAnnotations}. */
    public boolean hypervisorAnnotationEnabled(String name) {
        for (String regex : enableAnnotations) {
            if (Pattern.compile(regex).matcher(name).find()) {
                return true;
            }
        }
        return false;
    }
}
