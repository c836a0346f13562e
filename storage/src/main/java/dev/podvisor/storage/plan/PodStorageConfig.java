package dev.podvisor.storage.plan;

import dev.podvisor.storage.virtiofs.SafeVirtiofsdArgs;
import dev.podvisor.storage.virtiofs.ShellWords;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The storage-related pod annotations and configuration, parsed and validated once per plan.
 *
 * @param devices           extra virtio-fs devices: name to virtiofsd args (configuration, then annotation)
 * @param specialVolumes    the {@code special_volumes} tokens (checked by the planner, see {@link SpecialVolumeCheck})
 * @param sandboxBindMounts host paths bound into a device's share for guest services
 * @param declaredVolumes   {@code io.podvisor.volumes}
 */
record PodStorageConfig(
        Map<String, List<String>> devices,
        SpecialVolumes specialVolumes,
        List<SandboxBindMount> sandboxBindMounts,
        Map<String, DeclaredVolume> declaredVolumes) {

    static final String EXTRA_VIRTIOFS = "io.katacontainers.config.hypervisor.extra_virtiofs";
    static final String SPECIAL_VOLUMES = "io.katacontainers.config.runtime.special_volumes";
    static final String SANDBOX_BIND_MOUNTS = "io.katacontainers.config.runtime.sandbox_bind_mounts";
    private static final String HYPERVISOR_PREFIX = "io.katacontainers.config.hypervisor.";
    /**
     * The name {@code enable_annotations} must match for the {@code sandbox_bind_mounts} annotation to count: Kata's
     * annotation gate, applied to this runtime annotation too because it exposes host paths to the guest.
     */
    static final String SANDBOX_BIND_MOUNTS_GATE = "sandbox_bind_mounts";
    private static final Pattern DEVICE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,35}");
    private static final Set<String> RESERVED = Set.of(GuestPaths.KATA_SHARED, "containers", "sandboxes", "direct-volumes", "rw", "ro", "rafs");

    /**
     * One {@code sandbox_bind_mounts} entry.
     *
     * @param device   virtio-fs device
     * @param hostPath absolute host path
     * @param readOnly {@code @ro} (default) or {@code @rw}
     * @param source   where the entry came from, for error messages ({@code [runtime] sandbox_bind_mounts} or the
     *                 annotation's name)
     */
    record SandboxBindMount(String device, String hostPath, boolean readOnly, String source) {
    }

    /** Where configuration entries come from, in error messages. */
    static final String CONFIG_SANDBOX_BIND_MOUNTS = "[runtime] sandbox_bind_mounts";

    static PodStorageConfig parse(PlannerSettings settings, Map<String, String> annotations) {
        Map<String, List<String>> devices = new LinkedHashMap<>();
        settings.extraVirtiofs().forEach((name, args) -> {
            checkDeviceName(name, "extra_virtiofs", name);
            devices.put(name, args);
        });
        String extra = annotations.get(EXTRA_VIRTIOFS);
        if (extra != null) {
            String suffix = EXTRA_VIRTIOFS.substring(HYPERVISOR_PREFIX.length());
            if (!settings.hypervisorAnnotationEnabled(suffix)) {
                throw new PlanException("annotation " + EXTRA_VIRTIOFS + " is not enabled (enable_annotations does not match '" + suffix + "')");
            }
            for (String entry : extra.split(";")) {
                if (entry.isBlank()) {
                    continue;
                }
                int colon = entry.indexOf(':');
                if (colon <= 0) {
                    throw new PlanException("annotation " + EXTRA_VIRTIOFS + ": malformed entry '" + entry + "' (want <name>:<virtiofsd args>)");
                }
                String name = entry.substring(0, colon).trim();
                checkDeviceName(name, "annotation " + EXTRA_VIRTIOFS, entry);
                if (devices.containsKey(name)) {
                    throw new PlanException("annotation " + EXTRA_VIRTIOFS + ": device '" + name + "' is already defined");
                }
                String args = entry.substring(colon + 1).trim();
                List<String> argv;
                try {
                    argv = ShellWords.split(args); // as the configuration's extra_virtiofs entries
                } catch (IllegalArgumentException e) {
                    throw new PlanException("annotation " + EXTRA_VIRTIOFS + ": device '" + name + "': " + e.getMessage());
                }
                try {
                    SafeVirtiofsdArgs.check(argv, "annotation " + EXTRA_VIRTIOFS + ": device '" + name + "'");
                } catch (SafeVirtiofsdArgs.Refused refused) {
                    throw new PlanException(refused.getMessage());
                }
                devices.put(name, argv);
            }
        }

        SpecialVolumes special = SpecialVolumes.parse(annotations.get(SPECIAL_VOLUMES));

        List<SandboxBindMount> binds = new ArrayList<>();
        for (String entry : settings.sandboxBindMounts()) {
            // Kata: configuration entries are host paths with an optional @ro (default) or @rw, on the default device
            if (!entry.isBlank()) {
                binds.add(bindToken(GuestPaths.KATA_SHARED, entry.trim(), CONFIG_SANDBOX_BIND_MOUNTS, true));
            }
        }
        String sb = annotations.get(SANDBOX_BIND_MOUNTS);
        if (sb != null && !settings.hypervisorAnnotationEnabled(SANDBOX_BIND_MOUNTS_GATE)) {
            // issue 8, case 7: binding host paths into the VM is for pods the administrator allowed to ask
            throw new PlanException("annotation " + SANDBOX_BIND_MOUNTS + " is not enabled (add a pattern matching \""
                    + SANDBOX_BIND_MOUNTS_GATE + "\" to [hypervisor.clh] enable_annotations to allow it)");
        }
        if (sb != null) {
            for (String entry : sb.split(";")) {
                if (entry.isBlank()) {
                    continue;
                }
                String device = GuestPaths.KATA_SHARED;
                String paths = entry.trim();
                if (!paths.startsWith("/")) {
                    int colon = paths.indexOf(':');
                    if (colon <= 0) {
                        throw new PlanException("annotation " + SANDBOX_BIND_MOUNTS + ": malformed entry '" + entry + "' (want [<device>:]<host path>[@ro|@rw] ...)");
                    }
                    device = paths.substring(0, colon).trim();
                    paths = paths.substring(colon + 1).trim();
                    if (!devices.containsKey(device)) {
                        throw new PlanException("annotation " + SANDBOX_BIND_MOUNTS + ": unknown device '" + device + "' in '" + entry
                                + "' (extra virtio-fs devices: " + devices.keySet() + ")");
                    }
                }
                for (String token : paths.split("\\s+")) {
                    if (!token.isEmpty()) {
                        binds.add(bindToken(device, token, "annotation " + SANDBOX_BIND_MOUNTS, false));
                    }
                }
            }
        }

        String declared = annotations.get(DeclaredVolume.ANNOTATION);
        Map<String, DeclaredVolume> volumes = declared == null ? Map.of() : DeclaredVolume.parse(declared);
        return new PodStorageConfig(devices, special, binds, volumes);
    }

    /**
     * One {@code <host path>[@ro|@rw]} token. {@code @rw} only from the configuration: an annotation comes from the
     * pod's author, who must not get write access to a host path (issue 8, case 7).
     */
    private static SandboxBindMount bindToken(String device, String token, String where, boolean rwAllowed) {
        boolean ro = true;
        String p = token;
        int at = token.lastIndexOf('@');
        if (at >= 0) {
            String mode = token.substring(at + 1);
            p = token.substring(0, at);
            if (mode.equals("rw") && !rwAllowed) {
                throw new PlanException(where + ": entry '" + token
                        + "': @rw is refused from an annotation (only " + CONFIG_SANDBOX_BIND_MOUNTS + " in the"
                        + " configuration may bind a host path read-write)");
            } else if (mode.equals("rw")) {
                ro = false;
            } else if (!mode.equals("ro")) {
                throw new PlanException(where + ": malformed entry '" + token + "' (mode must be @ro or @rw)");
            }
        }
        if (!p.startsWith("/") || hasDotDot(p)) {
            throw new PlanException(where + ": malformed entry '" + token + "' (not an absolute path without '..')");
        }
        return new SandboxBindMount(device, Path.of(p).normalize().toString(), ro, where);
    }

    private static void checkDeviceName(String name, String where, String token) {
        if (!DEVICE_NAME.matcher(name).matches() || RESERVED.contains(name)) {
            throw new PlanException(where + ": malformed entry '" + token + "': device name '" + name
                    + "' must match " + DEVICE_NAME.pattern() + " and not be one of " + RESERVED);
        }
    }

    static boolean hasDotDot(String path) {
        return Arrays.asList(path.split("/")).contains("..");
    }
}
