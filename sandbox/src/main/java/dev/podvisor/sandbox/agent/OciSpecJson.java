package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.protocols.agent.Hook;
import dev.podvisor.protocols.agent.Hooks;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Solaris;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.Windows;


/**
 * The OCI spec's top level (runtime-spec config.md: ociVersion, process, root, hostname, mounts, hooks,
 * annotations, linux, solaris, windows) → the agent's {@code grpc.Spec} and its parts (kata-containers
 * src/libs/protocols/protos/oci.proto: Spec, Root, Mount, Hooks, Hook, Solaris, Windows). {@code ociVersion} fills
 * {@code Version}; other keys match field names ignoring case; keys without a field and null values are skipped.
 * Errors as {@link OciJson} describes.
 */
final class OciSpecJson {

    private OciSpecJson() {
    }

    static Spec spec(JsonNode json, String path) {
        Spec.Builder b = Spec.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "ociversion", "version" -> b.setVersion(m.string());
                case "process" -> b.setProcess(OciProcessJson.process(m.value(), m.path()));
                case "root" -> b.setRoot(root(m.value(), m.path()));
                case "hostname" -> b.setHostname(m.string());
                case "mounts" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        b.addMounts(mount(array.get(i), m.element(i)));
                    }
                }
                case "hooks" -> b.setHooks(hooks(m.value(), m.path()));
                case "annotations" -> b.addAllAnnotations(m.stringEntries());
                case "linux" -> b.setLinux(OciLinuxJson.linux(m.value(), m.path()));
                case "solaris" -> b.setSolaris(Solaris.newBuilder().setDummy(dummy(m.value(), m.path())));
                case "windows" -> b.setWindows(Windows.newBuilder().setDummy(dummy(m.value(), m.path())));
                default -> { }
            }
        }
        return b.build();
    }

    static Root root(JsonNode json, String path) {
        Root.Builder b = Root.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "path" -> b.setPath(m.string());
                case "readonly" -> b.setReadonly(m.bool());
                default -> { }
            }
        }
        return b.build();
    }

    static Mount mount(JsonNode json, String path) {
        Mount.Builder b = Mount.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "destination" -> b.setDestination(m.string());
                case "source" -> b.setSource(m.string());
                case "type" -> b.setType(m.string());
                case "options" -> b.addAllOptions(m.strings());
                default -> { }
            }
        }
        return b.build();
    }

    static Hooks hooks(JsonNode json, String path) {
        Hooks.Builder b = Hooks.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "prestart", "poststart", "poststop", "createruntime", "createcontainer", "startcontainer" -> {
                    JsonNode array = m.array();
                    for (int i = 0; i < array.size(); i++) {
                        Hook hook = hook(array.get(i), m.element(i));
                        switch (m.key()) {
                            case "prestart" -> b.addPrestart(hook);
                            case "poststart" -> b.addPoststart(hook);
                            case "poststop" -> b.addPoststop(hook);
                            case "createruntime" -> b.addCreateRuntime(hook);
                            case "createcontainer" -> b.addCreateContainer(hook);
                            default -> b.addStartContainer(hook);
                        }
                    }
                }
                default -> { }
            }
        }
        return b.build();
    }

    private static Hook hook(JsonNode json, String path) {
        Hook.Builder b = Hook.newBuilder();
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            switch (m.key()) {
                case "path" -> b.setPath(m.string());
                case "args" -> b.addAllArgs(m.strings());
                case "env" -> b.addAllEnv(m.strings());
                case "timeout" -> b.setTimeout(m.int64());
                default -> { }
            }
        }
        return b.build();
    }

    /** Solaris and Windows in the mirror are placeholders with one string field, {@code dummy}. */
    private static String dummy(JsonNode json, String path) {
        String dummy = "";
        for (OciMembers m = OciMembers.of(json, path); m.next(); ) {
            if (m.key().equals("dummy")) {
                dummy = m.string();
            }
        }
        return dummy;
    }
}
