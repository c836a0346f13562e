package dev.podvisor.testbed.ch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The testbed's own model of Cloud Hypervisor's API request bodies, written from
 * {@code vmm/src/api/openapi/cloud-hypervisor.yaml} and the serde derives of {@code vmm/src/vm_config.rs}
 * (see {@code docs/shared/reference/protocols.md} §5), and a checker that behaves like serde on them.
 *
 * <p>{@link #check(Type, JsonNode)} walks a JSON value against a {@link Type} and either returns a copy with
 * the serde defaults filled in, or throws {@link SchemaException} with serde's wording
 * ({@code missing field `payload`}, {@code invalid type: string "1G", expected u64}, {@code unknown variant
 * `Foo`, expected one of `Off`, `Pty`, ...}) followed by the JSON path of the offending field (serde itself
 * only gives a line and column). Unknown fields are ignored and dropped, as serde does without
 * {@code deny_unknown_fields}; {@code null} is accepted only for {@code Option} fields (declared with
 * {@code opt}); a plain field, even one with a serde default, refuses {@code null} as serde does.
 */
public final class ChSchema {
    private ChSchema() {
    }

    /** A serde-style deserialisation failure; the message names the field path. */
    public static final class SchemaException extends Exception {
        /** @param message serde-like text including the JSON path */
        public SchemaException(String message) {
            super(message);
        }
    }

    /** A JSON shape: a scalar, an array of a shape, a map of a shape, an enum, or a struct of fields. */
    public sealed interface Type permits Scalar, Seq, MapOf, Enum, Struct, Any {
        /** @return serde's "expected ..." wording for this shape */
        String expected();
    }

    /** Rust scalar types as serde_json deserialises them. */
    public enum Scalar implements Type {
        /** bool */ BOOL("a boolean"),
        /** String / PathBuf */ STRING("a string"),
        /** u8 */ U8("u8"),
        /** u16 */ U16("u16"),
        /** u32 */ U32("u32"),
        /** u64 / usize */ U64("u64"),
        /** i64 */ I64("i64");

        private final String expected;

        Scalar(String expected) {
            this.expected = expected;
        }

        @Override
        public String expected() {
            return expected;
        }
    }

    /** {@code Vec<T>}. @param of element shape */
    public record Seq(Type of) implements Type {
        @Override
        public String expected() {
            return "a sequence";
        }
    }

    /** {@code HashMap<String, T>} / {@code BTreeMap}. @param of value shape */
    public record MapOf(Type of) implements Type {
        @Override
        public String expected() {
            return "a map";
        }
    }

    /** Any JSON value (fields the testbed does not model in depth). */
    public record Any() implements Type {
        @Override
        public String expected() {
            return "any value";
        }
    }

    /** A unit-variant enum serialised as its variant name. @param name Rust type name @param variants names */
    public record Enum(String name, List<String> variants) implements Type {
        @Override
        public String expected() {
            return "enum " + name;
        }
    }

    /**
     * A struct field: required (no {@code Option}, no default), {@code Option} (no default value, null
     * allowed) or plain with a serde default ({@code defaultValue} set, null refused).
     *
     * @param name         JSON key
     * @param type         shape (resolved lazily so that shapes may refer to each other)
     * @param required     true when serde has neither {@code Option} nor {@code #[serde(default)]} for it
     * @param defaultValue the serde default filled in when missing (null: leave absent)
     */
    public record Field(String name, Supplier<Type> type, boolean required, JsonNode defaultValue) {
    }

    /** A struct. @param name Rust type name @param fields its fields in declaration order */
    public record Struct(String name, List<Field> fields) implements Type {
        @Override
        public String expected() {
            return "struct " + name;
        }
    }

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    static Field req(String name, Type t) {
        return new Field(name, () -> t, true, null);
    }

    static Field opt(String name, Type t) {
        return new Field(name, () -> t, false, null);
    }

    static Field def(String name, Type t, Object dflt) {
        JsonNode d = switch (dflt) {
            case Boolean b -> F.booleanNode(b);
            case Integer i -> F.numberNode(i);
            case Long l -> F.numberNode(l);
            case String s -> F.textNode(s);
            case JsonNode n -> n;
            default -> throw new IllegalArgumentException("default " + dflt);
        };
        return new Field(name, () -> t, false, d);
    }

    static Struct struct(String name, Field... fields) {
        return new Struct(name, List.of(fields));
    }

    private static final Type BOOL = Scalar.BOOL;
    private static final Type STR = Scalar.STRING;
    private static final Type U8 = Scalar.U8;
    private static final Type U16 = Scalar.U16;
    private static final Type U32 = Scalar.U32;
    private static final Type U64 = Scalar.U64;

    /** TokenBucketConfig {size, one_time_burst, refill_time}. */
    public static final Struct TOKEN_BUCKET = struct("TokenBucketConfig",
            req("size", U64), opt("one_time_burst", U64), req("refill_time", U64));
    /** RateLimiterConfig {bandwidth, ops}. */
    public static final Struct RATE_LIMITER = struct("RateLimiterConfig",
            opt("bandwidth", TOKEN_BUCKET), opt("ops", TOKEN_BUCKET));
    /** PayloadConfig. */
    public static final Struct PAYLOAD = struct("PayloadConfig",
            opt("firmware", STR), opt("kernel", STR), opt("cmdline", STR), opt("initramfs", STR),
            opt("igvm", STR), opt("host_data", STR));
    /** CpuTopology. */
    public static final Struct CPU_TOPOLOGY = struct("CpuTopology",
            req("threads_per_core", U16), req("cores_per_die", U16), req("dies_per_package", U16),
            req("packages", U16));
    /** CpusConfig (boot_vcpus/max_vcpus as in the newer u32 form). */
    public static final Struct CPUS = struct("CpusConfig",
            req("boot_vcpus", U32), req("max_vcpus", U32), opt("topology", CPU_TOPOLOGY),
            def("kvm_hyperv", BOOL, false), def("max_phys_bits", U8, 46),
            opt("affinity", new Seq(struct("CpuAffinity", req("vcpu", U32), req("host_cpus", new Seq(U32))))),
            opt("features", struct("CpuFeatures", def("amx", BOOL, false))), def("nested", BOOL, true),
            opt("core_scheduling", STR));
    /** MemoryZoneConfig. */
    public static final Struct MEMORY_ZONE = struct("MemoryZoneConfig",
            req("id", STR), req("size", U64), opt("file", STR), def("shared", BOOL, false),
            def("hugepages", BOOL, false), opt("hugepage_size", U64), opt("host_numa_node", U32),
            opt("hotplug_size", U64), opt("hotplugged_size", U64), def("prefault", BOOL, false));
    /** MemoryConfig. */
    public static final Struct MEMORY = struct("MemoryConfig",
            req("size", U64), def("mergeable", BOOL, false),
            def("hotplug_method", new Enum("HotplugMethod", List.of("Acpi", "VirtioMem")), "Acpi"),
            opt("hotplug_size", U64), opt("hotplugged_size", U64), def("shared", BOOL, false),
            def("hugepages", BOOL, false), opt("hugepage_size", U64), def("prefault", BOOL, false),
            opt("zones", new Seq(MEMORY_ZONE)), def("thp", BOOL, true), opt("reserve", BOOL));
    /** DiskConfig (path is an Option since vhost-user disks have none; checked at validation). */
    public static final Struct DISK = struct("DiskConfig",
            opt("path", STR), def("readonly", BOOL, false), def("direct", BOOL, false),
            def("iommu", BOOL, false), def("num_queues", U64, 1), def("queue_size", U16, 128),
            def("vhost_user", BOOL, false), opt("vhost_socket", STR), opt("rate_limit_group", STR),
            opt("rate_limiter_config", RATE_LIMITER), opt("id", STR), def("disable_io_uring", BOOL, false),
            def("disable_aio", BOOL, false), def("pci_segment", U16, 0), opt("pci_device_id", U8),
            opt("serial", STR), opt("queue_affinity", new Any()),
            opt("image_type", new Enum("ImageType", List.of("FixedVhd", "Qcow2", "Raw", "Vhdx", "Unknown"))),
            def("sparse", BOOL, true), opt("backing_files", BOOL), opt("lock_granularity", new Any()));
    /** NetConfig (modelled loosely: types of the common fields). */
    public static final Struct NET = struct("NetConfig",
            opt("tap", STR), opt("ip", STR), opt("mask", STR), opt("mac", STR), opt("host_mac", STR),
            opt("mtu", U16), def("iommu", BOOL, false), def("num_queues", U64, 2), def("queue_size", U16, 256),
            def("vhost_user", BOOL, false), opt("vhost_socket", STR), opt("vhost_mode", STR), opt("id", STR),
            opt("fds", new Seq(Scalar.I64)), opt("rate_limiter_config", RATE_LIMITER),
            def("pci_segment", U16, 0), opt("offload_tso", BOOL), opt("offload_ufo", BOOL),
            opt("offload_csum", BOOL));
    /** RngConfig. */
    public static final Struct RNG = struct("RngConfig", req("src", STR), def("iommu", BOOL, false));
    /** BalloonConfig. */
    public static final Struct BALLOON = struct("BalloonConfig", req("size", U64),
            def("deflate_on_oom", BOOL, false), def("free_page_reporting", BOOL, false));
    /** FsConfig. */
    public static final Struct FS = struct("FsConfig", req("tag", STR), req("socket", STR),
            def("num_queues", U64, 1), def("queue_size", U16, 1024), opt("id", STR), def("pci_segment", U16, 0),
            opt("pci_device_id", U8));
    /** PmemConfig. */
    public static final Struct PMEM = struct("PmemConfig", req("file", STR), opt("size", U64),
            def("iommu", BOOL, false), def("discard_writes", BOOL, false), opt("id", STR),
            def("pci_segment", U16, 0));
    /** ConsoleOutputMode. */
    public static final Enum CONSOLE_MODE = new Enum("ConsoleOutputMode",
            List.of("Off", "Pty", "Tty", "File", "Socket", "Null"));
    /** ConsoleConfig (serial, console). */
    public static final Struct CONSOLE = struct("ConsoleConfig", opt("file", STR), req("mode", CONSOLE_MODE),
            def("iommu", BOOL, false), opt("socket", STR));
    /** DebugConsoleConfig. */
    public static final Struct DEBUG_CONSOLE = struct("DebugConsoleConfig", opt("file", STR),
            req("mode", CONSOLE_MODE), opt("iobase", U16));
    /** DeviceConfig (VFIO). */
    public static final Struct DEVICE = struct("DeviceConfig", req("path", STR), def("iommu", BOOL, false),
            opt("id", STR), def("pci_segment", U16, 0), opt("pci_device_id", U8),
            opt("x_nv_gpudirect_clique", U8));
    /** UserDeviceConfig. */
    public static final Struct USER_DEVICE = struct("UserDeviceConfig", req("socket", STR), opt("id", STR),
            def("pci_segment", U16, 0));
    /** VdpaConfig. */
    public static final Struct VDPA = struct("VdpaConfig", req("path", STR), def("num_queues", U64, 1),
            def("iommu", BOOL, false), opt("id", STR), def("pci_segment", U16, 0));
    /** VsockConfig. */
    public static final Struct VSOCK = struct("VsockConfig", req("cid", U64), req("socket", STR),
            def("iommu", BOOL, false), opt("id", STR), def("pci_segment", U16, 0), opt("pci_device_id", U8));
    /** PlatformConfig. */
    public static final Struct PLATFORM = struct("PlatformConfig", def("num_pci_segments", U16, 1),
            opt("iommu_segments", new Seq(U16)), opt("iommu_address_width", U8), opt("serial_number", STR),
            opt("uuid", STR), opt("oem_strings", new Seq(STR)), def("tdx", BOOL, false),
            def("sev_snp", BOOL, false));
    /** TpmConfig. */
    public static final Struct TPM = struct("TpmConfig", req("socket", STR));

    private static ObjectNode defaultCpus() {
        ObjectNode n = F.objectNode();
        n.put("boot_vcpus", 1).put("max_vcpus", 1).put("kvm_hyperv", false).put("max_phys_bits", 46)
                .put("nested", true);
        return n;
    }

    private static ObjectNode defaultMemory() {
        ObjectNode n = F.objectNode();
        n.put("size", 512L << 20).put("mergeable", false).put("hotplug_method", "Acpi").put("shared", false)
                .put("hugepages", false).put("prefault", false).put("thp", true);
        return n;
    }

    private static ObjectNode mode(String mode) {
        return F.objectNode().put("mode", mode).put("iommu", false);
    }

    /**
     * VmConfig, the body of {@code vm.create}. {@code payload} is required here as in the OpenAPI spec
     * ({@code required: [payload]}); the Rust struct has it as an {@code Option} and would only fail at
     * {@code vm.boot}, so a client omitting it fails earlier against the testbed than against CH.
     */
    public static final Struct VM_CONFIG = struct("VmConfig",
            def("cpus", CPUS, defaultCpus()), def("memory", MEMORY, defaultMemory()), req("payload", PAYLOAD),
            opt("rate_limit_groups", new Any()), opt("disks", new Seq(DISK)), opt("net", new Seq(NET)),
            def("rng", RNG, F.objectNode().put("src", "/dev/urandom").put("iommu", false)),
            opt("balloon", BALLOON), opt("fs", new Seq(FS)), opt("pmem", new Seq(PMEM)),
            def("serial", CONSOLE, mode("Null")), def("console", CONSOLE, mode("Tty")),
            opt("debug_console", DEBUG_CONSOLE), opt("devices", new Seq(DEVICE)),
            opt("user_devices", new Seq(USER_DEVICE)), opt("vdpa", new Seq(VDPA)), opt("vsock", VSOCK),
            def("pvpanic", BOOL, false), def("iommu", BOOL, false), opt("sgx_epc", new Any()),
            opt("numa", new Any()), def("watchdog", BOOL, false), opt("platform", PLATFORM), opt("tpm", TPM),
            def("landlock_enable", BOOL, false), opt("landlock_rules", new Any()));

    /** VmResize {desired_vcpus, desired_ram, desired_balloon}. */
    public static final Struct VM_RESIZE = struct("VmResizeData", opt("desired_vcpus", U32),
            opt("desired_ram", U64), opt("desired_balloon", U64));
    /** VmResizeZone {id, desired_ram}. */
    public static final Struct VM_RESIZE_ZONE = struct("VmResizeZoneData", req("id", STR),
            req("desired_ram", U64));
    /** VmRemoveDevice {id}. */
    public static final Struct VM_REMOVE_DEVICE = struct("VmRemoveDeviceData", req("id", STR));

    /**
     * Checks {@code value} against {@code type} like serde would and returns a normalised copy with serde
     * defaults filled in and unknown fields dropped.
     *
     * @param type  the expected shape
     * @param value the parsed JSON body
     * @return the normalised value
     * @throws SchemaException naming the JSON path and serde's reason
     */
    public static JsonNode check(Type type, JsonNode value) throws SchemaException {
        return check(type, value, "");
    }

    private static String at(String path) {
        return path.isEmpty() ? "" : " at `" + path + "`";
    }

    private static String describe(JsonNode v) {
        if (v.isTextual()) {
            return "string \"" + v.asText() + "\"";
        }
        if (v.isBoolean()) {
            return "boolean `" + v.asBoolean() + "`";
        }
        if (v.isIntegralNumber()) {
            return "integer `" + v.bigIntegerValue() + "`";
        }
        if (v.isNumber()) {
            return "floating point `" + v.asText() + "`";
        }
        if (v.isNull()) {
            return "null";
        }
        if (v.isArray()) {
            return "sequence";
        }
        return "map";
    }

    private static JsonNode check(Type type, JsonNode v, String path) throws SchemaException {
        switch (type) {
            case Any a -> {
                return v;
            }
            case Scalar s -> {
                return checkScalar(s, v, path);
            }
            case Enum e -> {
                if (!v.isTextual()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected " + e.expected() + at(path));
                }
                if (!e.variants().contains(v.asText())) {
                    StringBuilder sb = new StringBuilder();
                    for (String var : e.variants()) {
                        sb.append(sb.isEmpty() ? "" : ", ").append('`').append(var).append('`');
                    }
                    throw new SchemaException("unknown variant `" + v.asText() + "`, expected one of " + sb + at(path));
                }
                return v;
            }
            case Seq s -> {
                if (!v.isArray()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected a sequence" + at(path));
                }
                var out = F.arrayNode();
                for (int i = 0; i < v.size(); i++) {
                    out.add(check(s.of(), v.get(i), path + "[" + i + "]"));
                }
                return out;
            }
            case MapOf m -> {
                if (!v.isObject()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected a map" + at(path));
                }
                ObjectNode out = F.objectNode();
                for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                    var e = it.next();
                    out.set(e.getKey(), check(m.of(), e.getValue(), path + "." + e.getKey()));
                }
                return out;
            }
            case Struct st -> {
                if (!v.isObject()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected " + st.expected() + at(path));
                }
                ObjectNode out = F.objectNode();
                for (Field f : st.fields()) {
                    String p = path.isEmpty() ? f.name() : path + "." + f.name();
                    JsonNode fv = v.get(f.name());
                    boolean option = !f.required() && f.defaultValue() == null;
                    if (fv == null) {
                        if (f.required()) {
                            throw new SchemaException("missing field `" + f.name() + "`" + at(path));
                        }
                        if (f.defaultValue() != null) {
                            out.set(f.name(), f.defaultValue().deepCopy());
                        }
                        continue;
                    }
                    if (fv.isNull()) {
                        if (option) {
                            continue; // Option<T>: null is None
                        }
                        // serde: a plain (possibly #[serde(default)]) field does not take null
                        throw new SchemaException("invalid type: null, expected " + f.type().get().expected() + at(p));
                    }
                    out.set(f.name(), check(f.type().get(), fv, p));
                }
                return out;
            }
        }
    }

    private static JsonNode checkScalar(Scalar s, JsonNode v, String path) throws SchemaException {
        switch (s) {
            case BOOL -> {
                if (!v.isBoolean()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected a boolean" + at(path));
                }
            }
            case STRING -> {
                if (!v.isTextual()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected a string" + at(path));
                }
            }
            default -> {
                if (!v.isIntegralNumber()) {
                    throw new SchemaException("invalid type: " + describe(v) + ", expected " + s.expected() + at(path));
                }
                BigInteger n = v.bigIntegerValue();
                BigInteger max = switch (s) {
                    case U8 -> BigInteger.valueOf(0xff);
                    case U16 -> BigInteger.valueOf(0xffff);
                    case U32 -> BigInteger.valueOf(0xffff_ffffL);
                    case U64 -> BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
                    default -> BigInteger.valueOf(Long.MAX_VALUE);
                };
                BigInteger min = s == Scalar.I64 ? BigInteger.valueOf(Long.MIN_VALUE) : BigInteger.ZERO;
                if (n.compareTo(min) < 0 || n.compareTo(max) > 0) {
                    throw new SchemaException("invalid value: integer `" + n + "`, expected " + s.expected() + at(path));
                }
            }
        }
        return v;
    }

    /** @return the names of the fields of {@code st} (for documentation and tests) */
    public static List<String> fieldNames(Struct st) {
        List<String> names = new ArrayList<>();
        for (Field f : st.fields()) {
            names.add(f.name());
        }
        return names;
    }

    /** @return a map from field name to requiredness of {@code st} */
    public static Map<String, Boolean> required(Struct st) {
        Map<String, Boolean> m = new LinkedHashMap<>();
        for (Field f : st.fields()) {
            m.put(f.name(), f.required());
        }
        return m;
    }
}
