package dev.podvisor.sandbox.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.virtiofs.SafeVirtiofsdArgs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Overlays pod annotations on a configuration, as Kata's Go runtime does in {@code addAnnotations}
 * (src/runtime/pkg/oci/utils.go).
 *
 * <p><b>Gate.</b> Every annotation whose key starts with {@code io.katacontainers.config.hypervisor.} must have a
 * suffix matched by one of the {@code enable_annotations} regular expressions (unanchored, like Go's
 * {@code regexp.MatchString}); otherwise the whole request fails with
 * {@code annotation <key> is not enabled}. Enabled hypervisor annotations Podvisor does not implement are ignored,
 * as Kata ignores unknown ones. {@code io.katacontainers.config.runtime.*} and {@code .agent.*} annotations are not
 * gated (Kata does not gate them either).
 *
 * <p><b>Hypervisor annotations honoured</b> (suffixes): {@code path} (must match {@code valid_hypervisor_paths}),
 * {@code kernel}, {@code image}, {@code initrd}, {@code firmware} (each checked by {@link BootFileGuard}),
 * {@code kernel_params} (appended; the whole at most {@link BootFileGuard#MAX_KERNEL_PARAMS_BYTES} bytes),
 * {@code machine_accelerators}, {@code default_vcpus} (float, rounded up, at most the host's CPUs),
 * {@code default_maxvcpus}, {@code default_memory} (MiB, at least 256), {@code memory_slots}, {@code shared_fs},
 * {@code virtio_fs_daemon} (must match {@code valid_virtio_fs_daemon_paths}), {@code virtio_fs_cache},
 * {@code virtio_fs_cache_size}, {@code virtio_fs_extra_args} (a JSON array of strings, appended to the configured
 * ones), {@code block_device_driver}, {@code disable_block_device_use}, and Podvisor's {@code extra_virtiofs}
 * ({@code <name>:<args>;<name>:<args>}, appended to the configured devices).
 *
 * <p><b>Runtime and agent annotations honoured</b>: {@code io.katacontainers.config.runtime.}{@code
 * disable_guest_seccomp}, {@code sandbox_cgroup_only}, {@code disable_new_netns}, {@code internetworking_model},
 * {@code create_container_timeout}, {@code experimental}; {@code io.katacontainers.config.agent.kernel_modules}
 * ({@code ;}-separated). {@code io.katacontainers.config.runtime.special_volumes} and
 * {@code .sandbox_bind_mounts} are left to the storage planner.
 *
 * <p>Booleans accept Go's {@code strconv.ParseBool} spellings ({@code 1 t T TRUE true True 0 f F FALSE false
 * False}); numbers are decimal.
 */
public final class ConfigAnnotations {
    /** Prefix of the gated hypervisor annotations. */
    public static final String HYPERVISOR_PREFIX = "io.katacontainers.config.hypervisor.";
    /** Prefix of runtime annotations. */
    public static final String RUNTIME_PREFIX = "io.katacontainers.config.runtime.";
    /** Prefix of agent annotations. */
    public static final String AGENT_PREFIX = "io.katacontainers.config.agent.";


    private ConfigAnnotations() {
    }

    /**
     * Same as {@link #apply(PodvisorConfig, Map, int)} with the CPUs this JVM sees.
     *
     * @param config      the loaded configuration
     * @param annotations the sandbox's OCI annotations
     * @return the configuration with the annotations applied
     * @throws ConfigException naming the annotation and its value
     */
    public static PodvisorConfig apply(PodvisorConfig config, Map<String, String> annotations) {
        return apply(config, annotations, Runtime.getRuntime().availableProcessors());
    }

    /**
     * @param config      the loaded configuration (not changed)
     * @param annotations the sandbox's OCI annotations
     * @param hostCpus    CPUs on the host, the ceiling for {@code default_vcpus} and {@code default_maxvcpus}
     * @return a new configuration with the annotations applied; {@code config} itself when nothing applies
     * @throws ConfigException {@code annotation <key> is not enabled} for a gated annotation, or naming the
     *                         annotation and the bad value
     */
    public static PodvisorConfig apply(PodvisorConfig config, Map<String, String> annotations, int hostCpus) {
        Map<String, String> sorted = new TreeMap<>(annotations);
        List<Pattern> gate = new ArrayList<>();
        for (String re : config.clh().enableAnnotations()) {
            try {
                gate.add(Pattern.compile(re));
            } catch (PatternSyntaxException e) {
                throw new ConfigException("[hypervisor.clh] enable_annotations: entry \"" + re
                        + "\" is not a valid regular expression: " + e.getDescription());
            }
        }
        for (String key : sorted.keySet()) {
            if (key.startsWith(HYPERVISOR_PREFIX)) {
                String suffix = key.substring(HYPERVISOR_PREFIX.length());
                if (gate.stream().noneMatch(p -> p.matcher(suffix).find())) {
                    throw new ConfigException("annotation " + key + " is not enabled (add a pattern matching \""
                            + suffix + "\" to [hypervisor.clh] enable_annotations to allow it)");
                }
            }
        }
        HypervisorConfig.Builder h = config.clh().toBuilder();
        RuntimeConfig r = config.runtime();
        AgentConfig a = config.agent();
        boolean changed = false;
        for (Map.Entry<String, String> e : sorted.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if (key.startsWith(HYPERVISOR_PREFIX)) {
                changed |= applyHypervisor(h, config.clh(), key, key.substring(HYPERVISOR_PREFIX.length()), value,
                        hostCpus);
            } else if (key.startsWith(RUNTIME_PREFIX)) {
                RuntimeConfig next = applyRuntime(r, key, key.substring(RUNTIME_PREFIX.length()), value);
                changed |= next != r;
                r = next;
            } else if (key.equals(AGENT_PREFIX + "kernel_modules")) {
                List<String> modules = new ArrayList<>();
                for (String m : value.split(";")) {
                    if (!m.isBlank()) {
                        modules.add(m.strip());
                    }
                }
                a = new AgentConfig(a.dialTimeoutSeconds(), modules, a.enableDebug(), a.enableTracing(),
                        a.debugConsoleEnabled());
                changed = true;
            }
        }
        if (!changed) {
            return config;
        }
        return new PodvisorConfig(h.build(), a, r, config.podvisor(), config.origin());
    }

    private static boolean applyHypervisor(HypervisorConfig.Builder h, HypervisorConfig orig, String key,
                                           String suffix, String value, int hostCpus) {
        switch (suffix) {
            case "path" -> {
                if (!PathGlobs.allowed(orig.validHypervisorPaths(), value)) {
                    throw bad(key, value, "hypervisor " + value + " required from annotation is not valid (not"
                            + " matched by [hypervisor.clh] valid_hypervisor_paths)");
                }
                h.path = value;
            }
            case "kernel" -> h.kernel = BootFileGuard.check(orig, orig.kernel(), key, value);
            case "image" -> {
                h.image = BootFileGuard.check(orig, orig.image(), key, value);
                if (!value.isEmpty()) {
                    h.initrd = "";
                }
            }
            case "initrd" -> {
                h.initrd = BootFileGuard.check(orig, orig.initrd(), key, value);
                if (!value.isEmpty()) {
                    h.image = "";
                }
            }
            case "firmware" -> h.firmware = BootFileGuard.check(orig, orig.firmware(), key, value);
            case "kernel_params" -> {
                if (!value.isBlank()) {
                    h.kernelParams = h.kernelParams.isBlank() ? value.strip() : h.kernelParams + " " + value.strip();
                    BootFileGuard.checkKernelParams(h.kernelParams, "annotation " + key);
                }
            }
            case "machine_accelerators" -> {
                if (!value.isEmpty()) {
                    h.machineAccelerators = ConfigLoader.normalizeAccelerators(value);
                }
            }
            case "default_vcpus" -> {
                double v;
                try {
                    v = Double.parseDouble(value);
                } catch (NumberFormatException ex) {
                    v = -1;
                }
                if (!(v >= 0) || Double.isInfinite(v)) {
                    throw bad(key, value, "Please specify positive numeric value");
                }
                if (v > hostCpus) {
                    throw bad(key, value, "Number of cpus " + value + " specified in annotation default_vcpus is"
                            + " greater than the number of CPUs " + hostCpus + " on the system");
                }
                h.defaultVcpus = (int) Math.ceil(v);
            }
            case "default_maxvcpus" -> {
                long v = uint(key, value);
                if (v > hostCpus) {
                    throw bad(key, value, "Number of cpus " + v + " in annotation default_maxvcpus is greater than"
                            + " the number of CPUs " + hostCpus + " on the system");
                }
                h.defaultMaxVcpus = (int) v;
            }
            case "default_memory" -> {
                long v = uint(key, value);
                if (v < HypervisorConfig.MIN_MEMORY_MIB) {
                    throw bad(key, value, "Memory specified in annotation " + key + " is less than minimum"
                            + " required " + HypervisorConfig.MIN_MEMORY_MIB + ", please specify a larger value");
                }
                if (v > Integer.MAX_VALUE) {
                    throw bad(key, value, "The number exceeds the maximum allowed for its type");
                }
                h.defaultMemoryMib = (int) v;
            }
            case "memory_slots" -> {
                long v = uint(key, value);
                if (v > 0) {
                    h.memorySlots = (int) Math.min(v, Integer.MAX_VALUE);
                }
            }
            case "shared_fs" -> {
                if (!value.equals(HypervisorConfig.SHARED_FS_VIRTIO_FS)) {
                    throw bad(key, value, "Invalid hypervisor shared file system " + value + " specified for"
                            + " annotation shared_fs, (supported file systems: [virtio-fs])");
                }
            }
            case "virtio_fs_daemon" -> {
                if (!PathGlobs.allowed(orig.validVirtioFsDaemonPaths(), value)) {
                    throw bad(key, value, "virtiofs daemon " + value + " required from annotation is not valid"
                            + " (not matched by [hypervisor.clh] valid_virtio_fs_daemon_paths)");
                }
                h.virtioFsDaemon = value;
            }
            case "virtio_fs_cache" -> {
                VirtioFsCache c = VirtioFsCache.fromToml(value);
                if (c == null) {
                    throw bad(key, value, "expected never, metadata, auto or always");
                }
                h.virtioFsCache = c;
            }
            case "virtio_fs_cache_size" -> {
                long v = uint(key, value);
                if (v > Integer.MAX_VALUE) {
                    throw bad(key, value, "The number exceeds the maximum allowed for its type");
                }
                h.virtioFsCacheSizeMib = (int) v;
            }
            case "virtio_fs_extra_args" -> {
                List<String> args = new ArrayList<>(h.virtioFsExtraArgs);
                args.addAll(safeVirtiofsdArgs(jsonStrings(key, value), "annotation " + key));
                h.virtioFsExtraArgs = args;
            }
            case "block_device_driver" -> {
                if (!value.equals(HypervisorConfig.BLOCK_DRIVER_VIRTIO_BLK) && !value.equals("virtio-blk-pci")) {
                    throw bad(key, value, "incorrect hypervisor configuration on 'block_device_driver': Cloud"
                            + " Hypervisor supports \"virtio-blk\" only");
                }
            }
            case "disable_block_device_use" -> h.disableBlockDeviceUse = bool(key, value);
            case "extra_virtiofs" -> {
                List<ExtraVirtiofsDevice> devices = new ArrayList<>(h.extraVirtiofs);
                for (String entry : value.split(";")) {
                    if (!entry.isBlank()) {
                        devices.add(ExtraVirtiofsDevice.parse(entry, "annotation " + key));
                    }
                }
                ExtraVirtiofsDevice.requireUniqueNames(devices, "annotation " + key);
                h.extraVirtiofs = devices;
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private static RuntimeConfig applyRuntime(RuntimeConfig r, String key, String suffix, String value) {
        return switch (suffix) {
            case "disable_guest_seccomp" -> new RuntimeConfig(r.enableDebug(), r.internetworkingModel(),
                    bool(key, value), r.sandboxCgroupOnly(), r.staticSandboxResourceMgmt(), r.disableNewNetns(),
                    r.sandboxBindMounts(), r.disableGuestEmptyDir(), r.emptydirMode(), r.experimental(),
                    r.enablePprof(), r.danConf(), r.createContainerTimeoutSeconds());
            case "sandbox_cgroup_only" -> new RuntimeConfig(r.enableDebug(), r.internetworkingModel(),
                    r.disableGuestSeccomp(), bool(key, value), r.staticSandboxResourceMgmt(), r.disableNewNetns(),
                    r.sandboxBindMounts(), r.disableGuestEmptyDir(), r.emptydirMode(), r.experimental(),
                    r.enablePprof(), r.danConf(), r.createContainerTimeoutSeconds());
            case "disable_new_netns" -> new RuntimeConfig(r.enableDebug(), r.internetworkingModel(),
                    r.disableGuestSeccomp(), r.sandboxCgroupOnly(), r.staticSandboxResourceMgmt(), bool(key, value),
                    r.sandboxBindMounts(), r.disableGuestEmptyDir(), r.emptydirMode(), r.experimental(),
                    r.enablePprof(), r.danConf(), r.createContainerTimeoutSeconds());
            case "internetworking_model" -> {
                String model = ConfigLoader.internetworkingModel(value);
                if (model == null || value.isEmpty()) {
                    throw bad(key, value, "Unknown network model specified in annotation " + key);
                }
                if (model.equals("macvtap")) {
                    throw bad(key, value, ConfigLoader.MACVTAP_UNSUPPORTED);
                }
                yield new RuntimeConfig(r.enableDebug(), model, r.disableGuestSeccomp(), r.sandboxCgroupOnly(),
                        r.staticSandboxResourceMgmt(), r.disableNewNetns(), r.sandboxBindMounts(),
                        r.disableGuestEmptyDir(), r.emptydirMode(), r.experimental(), r.enablePprof(), r.danConf(),
                        r.createContainerTimeoutSeconds());
            }
            case "create_container_timeout" -> {
                long v = uint(key, value);
                if (v > Integer.MAX_VALUE) {
                    throw bad(key, value, "The number exceeds the maximum allowed for its type");
                }
                yield new RuntimeConfig(r.enableDebug(), r.internetworkingModel(), r.disableGuestSeccomp(),
                        r.sandboxCgroupOnly(), r.staticSandboxResourceMgmt(), r.disableNewNetns(),
                        r.sandboxBindMounts(), r.disableGuestEmptyDir(), r.emptydirMode(), r.experimental(),
                        r.enablePprof(), r.danConf(), (int) v);
            }
            case "experimental" -> {
                for (String f : value.split(" ")) {
                    if (!f.isEmpty()) {
                        throw bad(key, value, "Unsupported experimental feature " + f + " specified in annotation "
                                + key);
                    }
                }
                yield r;
            }
            default -> r;
        };
    }

    private static ConfigException bad(String key, String value, String problem) {
        return new ConfigException("annotation " + key + " = \"" + value + "\": " + problem);
    }

    /** Go's {@code strconv.ParseBool}. */
    private static boolean bool(String key, String value) {
        return switch (value) {
            case "1", "t", "T", "TRUE", "true", "True" -> true;
            case "0", "f", "F", "FALSE", "false", "False" -> false;
            default -> throw bad(key, value, "Error parsing annotation for " + key
                    + ": Please specify boolean value 'true|false'");
        };
    }

    /** Go's {@code strconv.ParseUint(value, 10, 64)}. */
    private static long uint(String key, String value) {
        if (value.isEmpty() || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw bad(key, value, "Error parsing annotation for " + key + ": Please specify positive numeric value");
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw bad(key, value, "Error parsing annotation for " + key
                    + ": The number exceeds the maximum allowed for its type");
        }
    }

    /** {@link SafeVirtiofsdArgs#check}, its refusal as a {@link ConfigException}. */
    static List<String> safeVirtiofsdArgs(List<String> args, String where) {
        try {
            return SafeVirtiofsdArgs.check(args, where);
        } catch (SafeVirtiofsdArgs.Refused e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static List<String> jsonStrings(String key, String value) {
        JsonNode n;
        try {
            n = JsonTrees.parse(value);
        } catch (IOException e) {
            throw bad(key, value, "Error parsing virtiofsd extra arguments: expected a JSON array of strings");
        }
        if (n == null || !n.isArray()) {
            throw bad(key, value, "Error parsing virtiofsd extra arguments: expected a JSON array of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw bad(key, value, "Error parsing virtiofsd extra arguments: expected a JSON array of strings");
            }
            out.add(e.textValue());
        }
        return out;
    }
}
