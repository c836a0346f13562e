package dev.podvisor.sandbox.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Stream;

/**
 * Finds, reads and checks configuration.toml the way Kata's Go shim does.
 *
 * <p>Search order (containerd-shim-v2 {@code loadRuntimeConfig} and katautils {@code getDefaultConfigFile}):
 * <ol>
 *   <li>the {@code ConfigPath} of the CRI runtime options in the CreateTaskRequest (containerd's
 *       {@code [plugins.cri.containerd.runtimes.kata.options] ConfigPath}); Kata gives the pod annotation
 *       {@code io.katacontainers.config_path} ({@link #CONFIG_PATH_ANNOTATION}) priority over it: a caller that
 *       honours that annotation passes its value here instead;</li>
 *   <li>the environment variable {@code KATA_CONF_FILE};</li>
 *   <li>{@code /etc/kata-containers/configuration.toml};</li>
 *   <li>{@code /usr/share/defaults/kata-containers/configuration.toml}.</li>
 * </ol>
 * A file named explicitly (1 or 2) must exist; the default files are tried in turn. Then every regular file in
 * {@code config.d/} next to the chosen file is merged over it in name order (Kata's drop-ins, 3.x): tables merge
 * key by key, any other value replaces the earlier one.
 *
 * <p>Unknown keys are ignored as Kata's TOML decoding ignores them, and listed in {@link ConfigOrigin}. A value of
 * the wrong type, out of range or not allowed is a {@link ConfigException} naming the file, the table, the key and
 * the value. Paths are not checked here; see {@link PodvisorConfig#validatePaths()}.
 */
public final class ConfigLoader {
    /** Kata's system configuration file, tried first among the defaults. */
    public static final Path SYSCONF_CONFIG = Path.of("/etc/kata-containers/configuration.toml");
    /** Kata's packaged configuration file, tried last. */
    public static final Path DEFAULT_CONFIG = Path.of("/usr/share/defaults/kata-containers/configuration.toml");
    /** Environment variable naming a configuration file (Kata's). */
    public static final String KATA_CONF_FILE = "KATA_CONF_FILE";
    /** Pod annotation naming a configuration file; Kata ranks it above the runtime options' ConfigPath. */
    public static final String CONFIG_PATH_ANNOTATION = "io.katacontainers.config_path";
    /** Name of the drop-in directory next to the configuration file. */
    public static final String DROP_IN_DIR = "config.d";

    /** jackson-dataformat-toml's factory alone: its parser, read into a tree, without databind's ObjectMapper. */
    private static final TomlFactory TOML = new TomlFactory();
    private static final Set<String> KATA_HYPERVISORS = Set.of("qemu", "firecracker", "dragonball", "stratovirt",
            "remote", "acrn");

    private final Path sysconfConfig;
    private final Path defaultConfig;

    /** A loader with Kata's two default locations. */
    public ConfigLoader() {
        this(SYSCONF_CONFIG, DEFAULT_CONFIG);
    }

    /**
     * @param sysconfConfig replaces {@code /etc/kata-containers/configuration.toml} (tests)
     * @param defaultConfig replaces {@code /usr/share/defaults/kata-containers/configuration.toml} (tests)
     */
    public ConfigLoader(Path sysconfConfig, Path defaultConfig) {
        this.sysconfConfig = sysconfConfig;
        this.defaultConfig = defaultConfig;
    }

    /**
     * Finds the configuration file in Kata's order, reads it and its drop-ins.
     *
     * @param runtimeOptionsConfigPath the CRI runtime options' ConfigPath, empty when the request had none (an
     *                                 empty path counts as none)
     * @param env                      the environment (only {@code KATA_CONF_FILE} is read)
     * @return the configuration
     * @throws ConfigException when a named file is missing, no default file exists, a file cannot be read or
     *                         parsed, or a value is bad
     */
    public PodvisorConfig load(Optional<Path> runtimeOptionsConfigPath, Map<String, String> env) {
        return loadFile(locate(runtimeOptionsConfigPath, env));
    }

    /**
     * The search step of {@link #load} alone.
     *
     * @param runtimeOptionsConfigPath the CRI runtime options' ConfigPath, if any
     * @param env                      the environment
     * @return the file to read, symlinks resolved
     * @throws ConfigException when an explicitly named file does not exist (naming it and where the name came
     *                         from) or when none of the default files exists (listing them)
     */
    public Path locate(Optional<Path> runtimeOptionsConfigPath, Map<String, String> env) {
        if (runtimeOptionsConfigPath.isPresent() && !runtimeOptionsConfigPath.get().toString().isEmpty()) {
            return resolveExplicit(runtimeOptionsConfigPath.get(), "the CRI runtime options ConfigPath");
        }
        String fromEnv = env.get(KATA_CONF_FILE);
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return resolveExplicit(Path.of(fromEnv), "environment variable " + KATA_CONF_FILE);
        }
        List<String> tried = new ArrayList<>();
        for (Path p : List.of(sysconfConfig, defaultConfig)) {
            if (Files.exists(p)) {
                return realPath(p);
            }
            tried.add("\"" + p + "\"");
        }
        throw new ConfigException("cannot find a configuration file: tried " + String.join(", ", tried)
                + " (and neither the CRI runtime options ConfigPath nor " + KATA_CONF_FILE + " was set)");
    }

    private static Path resolveExplicit(Path p, String from) {
        if (!Files.exists(p)) {
            throw new ConfigException("configuration file " + p + " (from " + from + ") does not exist");
        }
        return realPath(p);
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            throw new ConfigException("configuration file " + p + ": cannot resolve: " + e.getMessage(), e);
        }
    }

    /**
     * Reads one configuration file and the drop-ins in its {@code config.d/} directory.
     *
     * @param file the configuration file
     * @return the configuration, whose origin names {@code file} and the drop-ins applied
     * @throws ConfigException for an unreadable or malformed file or a bad value
     */
    public static PodvisorConfig loadFile(Path file) {
        ObjectNode root = readTree(file);
        List<Path> dropIns = dropIns(file);
        List<String> warnings = new ArrayList<>();
        Map<String, String> keySources = new HashMap<>();
        for (Path d : dropIns) {
            if (!Files.isRegularFile(d)) {
                warnings.add("drop-in " + d + " is not a regular file; skipped");
                continue;
            }
            merge(root, readTree(d), "", d.toString(), keySources);
        }
        List<Path> applied = dropIns.stream().filter(Files::isRegularFile).toList();
        String source = applied.isEmpty() ? file.toString()
                : file + " (with drop-ins " + String.join(", ", applied.stream().map(Path::toString).toList()) + ")";
        return fromTree(root, source, Optional.of(file), applied, warnings, keySources);
    }

    /**
     * Parses configuration text without a file (no drop-ins). Used by tests and by tools given a string.
     *
     * @param toml       the TOML text
     * @param sourceName the name to use in messages, e.g. {@code <test>}
     * @return the configuration; its origin has no file
     * @throws ConfigException for malformed TOML or a bad value
     */
    public static PodvisorConfig parse(String toml, String sourceName) {
        ObjectNode root;
        try {
            root = asObject(tomlTree(toml), sourceName);
        } catch (JacksonException e) {
            throw new ConfigException(sourceName + ": invalid TOML: " + e.getOriginalMessage(), e);
        }
        return fromTree(root, sourceName, Optional.empty(), List.of(), new ArrayList<>(), Map.of());
    }

    private static ObjectNode readTree(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new ConfigException("configuration file " + file + ": cannot read: " + e, e);
        }
        try {
            return asObject(tomlTree(text), file.toString());
        } catch (JacksonException e) {
            throw new ConfigException(file + ": invalid TOML: " + e.getOriginalMessage()
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ")"), e);
        }
    }

    private static JsonNode tomlTree(String toml) throws JacksonException {
        try (var parser = TOML.createParser(toml)) {
            return JsonTrees.read(parser);
        } catch (JacksonException e) {
            throw e;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("reading TOML from memory: " + e.getMessage(), e);
        }
    }

    private static ObjectNode asObject(JsonNode n, String source) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            return JsonTrees.NODES.objectNode();
        }
        if (!n.isObject()) {
            throw new ConfigException(source + ": not a TOML document");
        }
        return (ObjectNode) n;
    }

    private static List<Path> dropIns(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent == null) {
            return List.of();
        }
        Path dir = parent.resolve(DROP_IN_DIR);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new ConfigException("error reading drop-in directory " + dir + ": " + e, e);
        }
    }

    /**
     * Deep merge: tables merge key by key, anything else replaces. Records in {@code keySources} which file set
     * each replaced key ({@code prefix} + key, dotted).
     */
    static void merge(ObjectNode target, ObjectNode src, String prefix, String file, Map<String, String> keySources) {
        for (Map.Entry<String, JsonNode> e : src.properties()) {
            JsonNode old = target.get(e.getKey());
            if (old instanceof ObjectNode oldObj && e.getValue() instanceof ObjectNode newObj) {
                merge(oldObj, newObj, prefix + e.getKey() + ".", file, keySources);
            } else {
                target.set(e.getKey(), e.getValue().deepCopy());
                recordSources(prefix + e.getKey(), e.getValue(), file, keySources);
            }
        }
    }

    private static void recordSources(String key, JsonNode value, String file, Map<String, String> keySources) {
        keySources.put(key, file);
        if (value instanceof ObjectNode obj) {
            for (Map.Entry<String, JsonNode> e : obj.properties()) {
                recordSources(key + "." + e.getKey(), e.getValue(), file, keySources);
            }
        }
    }

    private static ObjectNode subTable(ObjectNode parent, String key, String dotted, String source) {
        JsonNode n = parent == null ? null : parent.get(key);
        if (n == null) {
            return null;
        }
        if (!n.isObject()) {
            throw new ConfigException(source + ": " + dotted + " = " + TomlTable.render(n) + ": expected a table");
        }
        return (ObjectNode) n;
    }

    private static PodvisorConfig fromTree(ObjectNode root, String source, Optional<Path> file, List<Path> dropIns,
                                           List<String> warnings, Map<String, String> keySources) {
        List<String> unknown = new ArrayList<>();
        List<String> ignored = new ArrayList<>();

        ObjectNode hypervisors = subTable(root, "hypervisor", "hypervisor", source);
        if (hypervisors != null) {
            for (Iterator<String> it = hypervisors.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (name.equals("clh")) {
                    continue;
                }
                if (KATA_HYPERVISORS.contains(name)) {
                    throw new ConfigException(source + ": [hypervisor." + name + "]: Podvisor runs Cloud Hypervisor"
                            + " only; configure it in [hypervisor.clh]");
                }
                throw new ConfigException(source + ": configuration file contains invalid hypervisor section: \""
                        + name + "\" (Podvisor supports [hypervisor.clh] only)");
            }
        }
        TomlTable clhT = new TomlTable(source, "hypervisor.clh", subTable(hypervisors, "clh", "[hypervisor] clh",
                source), keySources);
        HypervisorConfig clh = readHypervisor(clhT, source, warnings);
        collect(clhT, KataKeys.HYPERVISOR, unknown, ignored);

        ObjectNode agents = subTable(root, "agent", "agent", source);
        TomlTable agentT = new TomlTable(source, "agent.kata", subTable(agents, "kata", "[agent] kata", source),
                keySources);
        AgentConfig agent = readAgent(agentT);
        collect(agentT, KataKeys.AGENT, unknown, ignored);
        if (agents != null) {
            for (Iterator<String> it = agents.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!name.equals("kata")) {
                    unknown.add("[agent." + name + "]");
                }
            }
        }

        TomlTable runtimeT = new TomlTable(source, "runtime", subTable(root, "runtime", "runtime", source),
                keySources);
        RuntimeConfig runtime = readRuntime(runtimeT);
        collect(runtimeT, KataKeys.RUNTIME, unknown, ignored);

        TomlTable podT = new TomlTable(source, "podvisor", subTable(root, "podvisor", "podvisor", source),
                keySources);
        PodvisorExtras podvisor = readPodvisor(podT);
        collect(podT, Set.of(), unknown, ignored);

        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String top = it.next();
            if (Set.of("hypervisor", "agent", "runtime", "podvisor").contains(top)) {
                continue;
            }
            Set<String> kataKeys = KataKeys.OTHER_TABLES.get(top);
            JsonNode n = root.get(top);
            if (kataKeys != null && n.isObject()) {
                for (Iterator<String> ks = n.fieldNames(); ks.hasNext(); ) {
                    String k = ks.next();
                    (kataKeys.contains(k) ? ignored : unknown).add("[" + top + "] " + k);
                }
            } else {
                unknown.add(n.isObject() ? "[" + top + "]" : top);
            }
        }

        ConfigOrigin origin = new ConfigOrigin(source, file, dropIns, unknown, ignored, warnings);
        return new PodvisorConfig(clh, agent, runtime, podvisor, origin);
    }

    private static void collect(TomlTable t, Set<String> kataKeys, List<String> unknown, List<String> ignored) {
        for (String k : t.unread()) {
            (kataKeys.contains(k) ? ignored : unknown).add(t.where(k));
        }
    }

    private static HypervisorConfig readHypervisor(TomlTable t, String source, List<String> warnings) {
        HypervisorConfig.Builder b = new HypervisorConfig.Builder();
        b.path = t.string("path", b.path);
        b.kernel = t.string("kernel", b.kernel);
        String image = t.string("image", "");
        String initrd = t.string("initrd", "");
        boolean hasImage = t.has("image");
        boolean hasInitrd = t.has("initrd");
        if (!image.isEmpty() && !initrd.isEmpty()) {
            throw t.bad("initrd", "image and initrd are both set; set only one (having both an image and an initrd"
                    + " defined in the configuration file is not supported)");
        }
        if (!initrd.isEmpty()) {
            b.image = "";
            b.initrd = initrd;
        } else if (!image.isEmpty()) {
            b.image = image;
        } else if (hasImage || hasInitrd) {
            throw new ConfigException(source + ": [hypervisor.clh] image, initrd: image or initrd must be defined in"
                    + " the configuration file");
        }
        b.rootfsType = t.string("rootfs_type", b.rootfsType);
        if (b.rootfsType.isEmpty()) {
            b.rootfsType = "ext4";
        }
        if (!Set.of("ext4", "xfs", "erofs").contains(b.rootfsType)) {
            throw t.bad("rootfs_type", "expected \"ext4\", \"xfs\" or \"erofs\"");
        }
        b.kernelParams = t.string("kernel_params", b.kernelParams);
        BootFileGuard.checkKernelParams(b.kernelParams, source + ": " + t.where("kernel_params"));
        b.firmware = t.string("firmware", b.firmware);
        b.machineAccelerators = normalizeAccelerators(t.string("machine_accelerators", b.machineAccelerators));

        double vcpus = t.number("default_vcpus", b.defaultVcpus, "a number of vCPUs");
        if (Double.isNaN(vcpus) || Math.abs(vcpus) > 1_000_000) {
            throw t.bad("default_vcpus", "expected a number of vCPUs");
        }
        b.defaultVcpus = (int) Math.ceil(vcpus);
        b.defaultMaxVcpus = t.uint("default_maxvcpus", b.defaultMaxVcpus, "a non-negative integer number of vCPUs");
        int mem = t.uint("default_memory", b.defaultMemoryMib, "an integer number of MiB");
        if (mem < HypervisorConfig.MIN_MEMORY_MIB) {
            if (mem != 0) {
                warnings.add(t.where("default_memory") + " = " + mem + " is below the minimum of "
                        + HypervisorConfig.MIN_MEMORY_MIB + " MiB; using 2048 MiB as Kata does");
            }
            mem = 2048;
        }
        b.defaultMemoryMib = mem;
        b.defaultMaxMemoryMib = t.integer("default_maxmemory", 0, 0, Long.MAX_VALUE, "an integer number of MiB");
        int slots = t.uint("memory_slots", b.memorySlots, "a non-negative integer number of slots");
        b.memorySlots = slots == 0 ? 10 : slots;
        int bridges = t.uint("default_bridges", b.defaultBridges, "a non-negative integer number of bridges");
        if (bridges > 5) {
            warnings.add(t.where("default_bridges") + " = " + bridges + " is above the maximum of 5; using 5 as"
                    + " Kata does");
            bridges = 5;
        }
        b.defaultBridges = bridges == 0 ? 1 : bridges;

        String sharedFs = t.string("shared_fs", b.sharedFs);
        switch (sharedFs) {
            case "", HypervisorConfig.SHARED_FS_VIRTIO_FS -> b.sharedFs = HypervisorConfig.SHARED_FS_VIRTIO_FS;
            case "virtio-fs-nydus" -> throw t.bad("shared_fs", "nydus is not supported by Podvisor; use"
                    + " \"virtio-fs\"");
            case "none" -> throw t.bad("shared_fs", "Podvisor needs a shared file system; use \"virtio-fs\"");
            case "virtio-9p" -> throw t.bad("shared_fs", "Cloud Hypervisor does not support virtio-9p shared"
                    + " filesystem option");
            default -> throw t.bad("shared_fs", "Invalid hypervisor shared file system (supported: \"virtio-fs\")");
        }
        b.virtioFsDaemon = t.string("virtio_fs_daemon", b.virtioFsDaemon);
        if (b.virtioFsDaemon.isEmpty()) {
            throw t.bad("virtio_fs_daemon", "cannot enable virtio-fs without daemon path in configuration file");
        }
        b.validVirtioFsDaemonPaths = t.strings("valid_virtio_fs_daemon_paths", b.validVirtioFsDaemonPaths);
        String cache = t.string("virtio_fs_cache", b.virtioFsCache.tomlName());
        if (cache.isEmpty()) {
            cache = VirtioFsCache.AUTO.tomlName();
        }
        VirtioFsCache mode = VirtioFsCache.fromToml(cache);
        if (mode == null) {
            throw t.bad("virtio_fs_cache", "expected \"never\", \"metadata\", \"auto\" or \"always\"");
        }
        if (cache.equals("none")) {
            warnings.add(t.where("virtio_fs_cache") + " = \"none\" is deprecated; using \"never\"");
        }
        b.virtioFsCache = mode;
        b.virtioFsCacheSizeMib = t.uint("virtio_fs_cache_size", b.virtioFsCacheSizeMib,
                "a non-negative integer number of MiB");
        int queue = t.uint("virtio_fs_queue_size", b.virtioFsQueueSize,
                "a power-of-two integer number of virtqueue entries");
        if (queue == 0) {
            queue = 1024;
        }
        if (Integer.bitCount(queue) != 1 || queue > 32768) {
            throw t.bad("virtio_fs_queue_size", "expected a power-of-two integer number of virtqueue entries, at"
                    + " most 32768");
        }
        b.virtioFsQueueSize = queue;
        b.virtioFsDaemonStyle = t.string("virtio_fs_daemon_style", b.virtioFsDaemonStyle);
        if (!List.of(HypervisorConfig.DAEMON_STYLE_RUST, HypervisorConfig.DAEMON_STYLE_C).contains(b.virtioFsDaemonStyle)) {
            throw t.bad("virtio_fs_daemon_style", "expected \"rust\" (Kata's virtiofsd) or \"c\" (QEMU's /usr/lib/qemu/virtiofsd)");
        }
        if (b.virtioFsDaemonStyle.equals(HypervisorConfig.DAEMON_STYLE_C)) {
            b.virtioFsExtraArgs = List.of("--thread-pool-size=1", "-o", "announce_submounts"); // Kata 2.x's default for it
        }
        b.virtioFsExtraArgs = ConfigAnnotations.safeVirtiofsdArgs(t.strings("virtio_fs_extra_args", b.virtioFsExtraArgs),
                source + ": " + t.where("virtio_fs_extra_args"));

        String driver = t.string("block_device_driver", b.blockDeviceDriver);
        switch (driver) {
            case "", HypervisorConfig.BLOCK_DRIVER_VIRTIO_BLK, "virtio-blk-pci" ->
                    b.blockDeviceDriver = HypervisorConfig.BLOCK_DRIVER_VIRTIO_BLK;
            default -> throw t.bad("block_device_driver", "incorrect hypervisor configuration on"
                    + " 'block_device_driver': Cloud Hypervisor supports \"virtio-blk\" only");
        }
        b.disableBlockDeviceUse = t.bool("disable_block_device_use", b.disableBlockDeviceUse);
        b.enableAnnotations = t.strings("enable_annotations", b.enableAnnotations);
        for (String re : b.enableAnnotations) {
            try {
                Pattern.compile(re);
            } catch (PatternSyntaxException e) {
                throw t.bad("enable_annotations", "entry \"" + re + "\" is not a valid regular expression: "
                        + e.getDescription());
            }
        }
        b.validHypervisorPaths = t.strings("valid_hypervisor_paths", b.validHypervisorPaths);
        b.validKernelPaths = t.strings("valid_kernel_paths", b.validKernelPaths);
        b.enableDebug = t.bool("enable_debug", b.enableDebug);
        b.disableSeccomp = t.bool("disable_seccomp", b.disableSeccomp);
        int level = t.uint("hypervisor_loglevel", b.hypervisorLoglevel, "a non-negative integer log level");
        if (level > 3) {
            warnings.add(t.where("hypervisor_loglevel") + " = " + level + " is above the maximum of 3; using 3 as"
                    + " Kata does");
            level = 3;
        }
        b.hypervisorLoglevel = level;
        b.extraVirtiofs = ExtraVirtiofsDevice.parseAll(t.strings("extra_virtiofs", List.of()),
                source + ": " + t.where("extra_virtiofs"));
        return b.build();
    }

    /** Kata's {@code machineAccelerators()}: split on commas, trim, drop empty items. */
    static String normalizeAccelerators(String raw) {
        List<String> items = new ArrayList<>();
        for (String s : raw.split(",")) {
            String v = s.strip();
            if (!v.isEmpty()) {
                items.add(v);
            }
        }
        return String.join(",", items);
    }

    private static AgentConfig readAgent(TomlTable t) {
        int dial = t.uint("dial_timeout", AgentConfig.DEFAULT_DIAL_TIMEOUT_SECONDS,
                "a non-negative integer number of seconds");
        return new AgentConfig(dial == 0 ? AgentConfig.DEFAULT_DIAL_TIMEOUT_SECONDS : dial,
                t.strings("kernel_modules", List.of()),
                t.bool("enable_debug", false),
                t.bool("enable_tracing", false),
                t.bool("debug_console_enabled", false));
    }

    private static RuntimeConfig readRuntime(TomlTable t) {
        RuntimeConfig d = RuntimeConfig.defaults();
        boolean debug = t.bool("enable_debug", d.enableDebug());
        String model = internetworkingModel(t.string("internetworking_model", d.internetworkingModel()));
        if (model == null) {
            throw t.bad("internetworking_model", "expected \"tcfilter\" or \"none\" (Kata also knows \"macvtap\","
                    + " which Podvisor does not support)");
        }
        if (model.equals("macvtap")) {
            throw t.bad("internetworking_model", MACVTAP_UNSUPPORTED);
        }
        boolean disableNewNetns = t.bool("disable_new_netns", d.disableNewNetns());
        if (disableNewNetns && !model.equals("none")) {
            throw t.bad("disable_new_netns", "config disable_new_netns only works with 'none' internetworking_model");
        }
        String emptyDir = t.string("emptydir_mode", d.emptydirMode().tomlName());
        EmptyDirMode mode = switch (emptyDir) {
            case "", "shared-fs" -> EmptyDirMode.SHARED_FS;
            case "block-plain" -> EmptyDirMode.BLOCK_PLAIN;
            case "block-encrypted" -> throw t.bad("emptydir_mode", "block-encrypted emptyDir is not supported by"
                    + " Podvisor (no confidential guest); use \"shared-fs\" or \"block-plain\"");
            default -> throw t.bad("emptydir_mode", "invalid emptydir_mode=\"" + emptyDir + "\", allowed values:"
                    + " \"shared-fs\", \"block-encrypted\", \"block-plain\"");
        };
        List<String> experimental = t.strings("experimental", List.of());
        if (!experimental.isEmpty()) {
            throw t.bad("experimental", "Unsupported experimental feature \"" + experimental.getFirst() + "\"");
        }
        String danConf = t.string("dan_conf", d.danConf());
        int timeout = t.uint("create_container_timeout", d.createContainerTimeoutSeconds(),
                "a non-negative integer number of seconds");
        return new RuntimeConfig(debug, model,
                t.bool("disable_guest_seccomp", d.disableGuestSeccomp()),
                t.bool("sandbox_cgroup_only", d.sandboxCgroupOnly()),
                t.bool("static_sandbox_resource_mgmt", d.staticSandboxResourceMgmt()),
                disableNewNetns,
                t.strings("sandbox_bind_mounts", List.of()),
                t.bool("disable_guest_empty_dir", d.disableGuestEmptyDir()),
                mode, experimental,
                t.bool("enable_pprof", d.enablePprof()),
                danConf.isEmpty() ? d.danConf() : danConf,
                timeout == 0 ? d.createContainerTimeoutSeconds() : timeout);
    }

    /** Why {@code internetworking_model = "macvtap"} is refused (docs/networking.md). */
    static final String MACVTAP_UNSUPPORTED = "the macvtap model is not supported by Podvisor;"
            + " use \"tcfilter\" (the default) or \"none\"";

    /** Kata's {@code NetInterworkingModel.SetModel}: "default" means tcfilter. @return null when unknown */
    static String internetworkingModel(String value) {
        return switch (value) {
            case "", "default", "tcfilter" -> "tcfilter";
            case "macvtap", "none" -> value;
            default -> null;
        };
    }

    private static PodvisorExtras readPodvisor(TomlTable t) {
        PodvisorExtras d = PodvisorExtras.defaults();
        return new PodvisorExtras(absolute(t, "state_dir", d.stateDir()), absolute(t, "shared_root", d.sharedRoot()),
                absolute(t, "direct_volumes_root", d.directVolumesRoot()),
                absolute(t, "management_dir", d.managementDir()),
                (int) t.integer("max_extra_virtiofs", d.maxExtraVirtiofs(), 0, 64, "a number of devices"),
                (int) t.integer("max_container_mounts", d.maxContainerMounts(), 1, 65536, "a number of mounts"));
    }

    private static Path absolute(TomlTable t, String key, Path def) {
        String v = t.string(key, def.toString());
        if (v.isEmpty() || !v.startsWith("/")) {
            throw t.bad(key, "expected an absolute path");
        }
        return Path.of(v).normalize();
    }
}
