package dev.podvisor.testbed.guest;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the kata agent's protobuf mirror of the OCI runtime spec (oci.proto, package {@code grpc}) back into
 * OCI {@code config.json} / {@code process.json} trees, then rewrites them for the testbed guest the way the
 * kata-agent's rustjail adapts a spec to the VM: rootfs and guest-path mount sources under the guest root,
 * namespace paths dropped, a unique cgroups path, hooks dropped.
 *
 * <p>Field names follow the OCI JSON keys: the proto's capitalised names lower-cased at the front
 * ({@code UIDMappings → uidMappings}, {@code OOMScoreAdj → oomScoreAdj}, {@code CPU → cpu}) plus the few
 * keys the OCI spec spells differently ({@code Version → ociVersion}, {@code Pagesize → pageSize},
 * {@code errnoret → errnoRet}). Proto3 defaults (0, "", false, empty lists, absent messages) are omitted,
 * which OCI treats as unset.
 */
final class OciSpecs {

    /** Proto fields that have no OCI meaning inside the guest and are left out. */
    private static final Set<String> DROPPED = Set.of("Hooks", "Solaris", "Windows");

    private OciSpecs() {
    }

    /** The OCI JSON key for a proto field name. */
    static String jsonKey(String protoName) {
        switch (protoName) {
            case "Version":
                return "ociVersion";
            case "Pagesize":
                return "pageSize";
            case "errnoret":
                return "errnoRet";
            default:
                break;
        }
        int run = 0;
        while (run < protoName.length() && Character.isUpperCase(protoName.charAt(run))) {
            run++;
        }
        if (run == 0) {
            return protoName;
        }
        if (run == protoName.length()) {
            return protoName.toLowerCase(java.util.Locale.ROOT);
        }
        int lower = run > 1 && Character.isLowerCase(protoName.charAt(run)) ? run - 1 : run;
        return protoName.substring(0, lower).toLowerCase(java.util.Locale.ROOT) + protoName.substring(lower);
    }

    /** The generic OCI JSON tree of any oci.proto message (set fields only). */
    static Map<String, Object> toJson(Message message) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<FieldDescriptor, Object> entry : message.getAllFields().entrySet()) {
            FieldDescriptor field = entry.getKey();
            if (DROPPED.contains(field.getName())) {
                continue;
            }
            Object value = entry.getValue();
            if (field.isMapField() || isStringEntries(field)) {
                FieldDescriptor keyField = field.getMessageType().findFieldByName("key");
                FieldDescriptor valueField = field.getMessageType().findFieldByName("value");
                Map<String, Object> map = new LinkedHashMap<>();
                for (Object item : (List<?>) value) {
                    Message e = (Message) item;
                    map.put(String.valueOf(e.getField(keyField)), scalar(valueField, e.getField(valueField)));
                }
                out.put(jsonKey(field.getName()), map);
            } else if (field.isRepeated()) {
                List<Object> list = new ArrayList<>();
                for (Object item : (List<?>) value) {
                    list.add(scalar(field, item));
                }
                out.put(jsonKey(field.getName()), list);
            } else {
                out.put(jsonKey(field.getName()), scalar(field, value));
            }
        }
        return out;
    }

    /**
     * Kata's {@code map<string, string>} fields (Annotations, Sysctl) that our oci.proto declares as repeated
     * {@code StringEntry}, the same on the wire: written back as JSON objects, a repeated key's last value kept.
     */
    private static boolean isStringEntries(FieldDescriptor field) {
        return field.isRepeated() && field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && field.getMessageType().getFullName().equals("grpc.StringEntry");
    }

    private static Object scalar(FieldDescriptor field, Object value) {
        if (value instanceof Message m) {
            return toJson(m);
        }
        if (value instanceof EnumValueDescriptor e) {
            return e.getName();
        }
        if (value instanceof Long l && (field.getType() == FieldDescriptor.Type.UINT64
                || field.getType() == FieldDescriptor.Type.FIXED64) && l < 0) {
            return new BigInteger(Long.toUnsignedString(l));
        }
        if (value instanceof Integer i && (field.getType() == FieldDescriptor.Type.UINT32
                || field.getType() == FieldDescriptor.Type.FIXED32) && i < 0) {
            return Integer.toUnsignedLong(i);
        }
        return value;
    }

    /**
     * The OCI {@code config.json} for a container of this guest.
     *
     * @param spec       the {@code CreateContainerRequest.OCI} message ({@code grpc.Spec})
     * @param root       the guest root
     * @param cgroupPath the cgroups path to use ({@code /podvisor-testbed/<vm>/<cid>})
     * @throws IllegalArgumentException when {@code Root.Path} or {@code Process} is missing or not a guest path
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> config(Message spec, GuestRoot root, String cgroupPath) {
        Map<String, Object> config = toJson(spec);
        config.putIfAbsent("ociVersion", "1.0.2");
        Map<String, Object> rootFs = (Map<String, Object>) config.get("root");
        if (rootFs == null || !(rootFs.get("path") instanceof String path) || path.isEmpty()) {
            throw new IllegalArgumentException("OCI.Root.Path: missing");
        }
        rootFs.put("path", root.host("OCI.Root.Path", path).toString());
        Map<String, Object> process = (Map<String, Object>) config.get("process");
        if (process == null) {
            throw new IllegalArgumentException("OCI.Process: missing");
        }
        process(process);
        List<Map<String, Object>> mounts = (List<Map<String, Object>>) config.getOrDefault("mounts", List.of());
        for (Map<String, Object> mount : mounts) {
            String source = (String) mount.get("source");
            String type = (String) mount.getOrDefault("type", "");
            List<String> options = (List<String>) mount.getOrDefault("options", List.of());
            if (GuestRoot.isGuestPath(source)) {
                mount.put("source", root.host("OCI.Mounts.source", source).toString());
            }
            // rustjail treats any type with a bind option (e.g. kata's "local" + rbind) as a bind
            if (!type.equals("bind") && (options.contains("bind") || options.contains("rbind"))) {
                mount.put("type", "bind");
            }
        }
        Map<String, Object> linux = (Map<String, Object>) config.computeIfAbsent("linux",
                k -> new LinkedHashMap<String, Object>());
        linux.put("cgroupsPath", cgroupPath);
        List<Map<String, Object>> namespaces =
                (List<Map<String, Object>>) linux.getOrDefault("namespaces", List.of());
        for (Map<String, Object> ns : namespaces) {
            ns.remove("path"); // host namespace paths mean nothing in the guest; every container gets its own
        }
        return config;
    }

    /**
     * The OCI {@code process.json} for {@code runc exec --process}, from an {@code ExecProcessRequest.process}.
     *
     * @throws IllegalArgumentException when {@code Args} is empty
     */
    static Map<String, Object> process(Message process) {
        Map<String, Object> json = toJson(process);
        process(json);
        return json;
    }

    @SuppressWarnings("unchecked")
    private static void process(Map<String, Object> process) {
        List<String> args = (List<String>) process.get("args");
        if (args == null || args.isEmpty()) {
            throw new IllegalArgumentException("Process.Args: empty");
        }
        process.putIfAbsent("cwd", "/");
        Map<String, Object> user = (Map<String, Object>) process.computeIfAbsent("user",
                k -> new LinkedHashMap<String, Object>());
        user.remove("username"); // runc resolves no user names
        user.putIfAbsent("uid", 0);
        user.putIfAbsent("gid", 0);
    }
}
