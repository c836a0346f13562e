package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.Box;
import dev.podvisor.protocols.agent.LinuxCapabilities;
import dev.podvisor.protocols.agent.POSIXRlimit;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.User;


/**
 * OCI {@code process} (runtime-spec config.md "Process": terminal, consoleSize, user, args, env, cwd, capabilities,
 * rlimits, noNewPrivileges, apparmorProfile, oomScoreAdj, selinuxLabel) → the agent's {@code grpc.Process} and its
 * parts (kata-containers src/libs/protocols/protos/oci.proto: Process, Box, User, LinuxCapabilities, POSIXRlimit).
 * Keys match field names ignoring case; keys without a field (e.g. {@code user.umask}) and null values are
 * skipped. Errors as {@link OciJson} describes.
 */
final class OciProcessJson {

    private OciProcessJson() {
    }

    static Process process(JsonNode json, String path) {
        Process.Builder b = Process.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "terminal" -> b.setTerminal(m.bool());
                case "consolesize" -> b.setConsoleSize(box(m.value(), m.path()));
                case "user" -> b.setUser(user(m.value(), m.path()));
                case "args" -> b.addAllArgs(m.strings());
                case "env" -> b.addAllEnv(m.strings());
                case "cwd" -> b.setCwd(m.string());
                case "capabilities" -> b.setCapabilities(capabilities(m.value(), m.path()));
                case "rlimits" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addRlimits(rlimit(array.get(i), m.element(i)));
                    }
                }
                case "nonewprivileges" -> b.setNoNewPrivileges(m.bool());
                case "apparmorprofile" -> b.setApparmorProfile(m.string());
                case "oomscoreadj" -> b.setOOMScoreAdj(m.int64());
                case "selinuxlabel" -> b.setSelinuxLabel(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    static User user(JsonNode json, String path) {
        User.Builder b = User.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "uid" -> b.setUID(m.int32());
                case "gid" -> b.setGID(m.int32());
                case "additionalgids" -> b.addAllAdditionalGids(m.int32s());
                case "username" -> b.setUsername(m.string());
                default -> { }
            }
        }
        return b.build();
    }

    private static Box box(JsonNode json, String path) {
        Box.Builder b = Box.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "height" -> b.setHeight(m.int32());
                case "width" -> b.setWidth(m.int32());
                default -> { }
            }
        }
        return b.build();
    }

    private static LinuxCapabilities capabilities(JsonNode json, String path) {
        LinuxCapabilities.Builder b = LinuxCapabilities.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "bounding" -> b.addAllBounding(m.strings());
                case "effective" -> b.addAllEffective(m.strings());
                case "inheritable" -> b.addAllInheritable(m.strings());
                case "permitted" -> b.addAllPermitted(m.strings());
                case "ambient" -> b.addAllAmbient(m.strings());
                default -> { }
            }
        }
        return b.build();
    }

    private static POSIXRlimit rlimit(JsonNode json, String path) {
        POSIXRlimit.Builder b = POSIXRlimit.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "type" -> b.setType(m.string());
                case "hard" -> b.setHard(m.int64());
                case "soft" -> b.setSoft(m.int64());
                default -> { }
            }
        }
        return b.build();
    }
}
