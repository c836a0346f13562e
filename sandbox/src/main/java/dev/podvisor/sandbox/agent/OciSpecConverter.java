package dev.podvisor.sandbox.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Message;
import dev.podvisor.protocols.agent.Hooks;
import dev.podvisor.protocols.agent.Linux;
import dev.podvisor.protocols.agent.LinuxResources;
import dev.podvisor.protocols.agent.Mount;
import dev.podvisor.protocols.agent.Process;
import dev.podvisor.protocols.agent.Root;
import dev.podvisor.protocols.agent.Spec;
import dev.podvisor.protocols.agent.User;

/**
 * Converts an OCI runtime spec (config.json, runtime-spec 1.x) into the kata agent's protobuf mirror of it
 * ({@code grpc.Spec}, kata-containers: src/libs/protocols/protos/oci.proto), which Kata's runtimes build with
 * hand-written code. The mirror keeps the OCI structure and spells every field name with capitals
 * ({@code process.user.uid} → {@code Process.User.UID}, {@code linux.uidMappings} → {@code Linux.UIDMappings}),
 * so each JSON key is matched to the field whose name equals it ignoring case; the one exception is
 * {@code ociVersion} → {@code Version}. Map fields (annotations, sysctl) keep their keys (the mirror holds them as
 * repeated key/value entries, wire-identical to Kata's maps, see oci.proto). JSON keys the mirror has
 * no field for are skipped (the mirror predates some OCI fields), as are JSON null values; a null element of an
 * array of objects gives an empty message. Type rules and error texts: {@link OciJson}.
 *
 * <p>The conversion is written out per message ({@link OciSpecJson}, {@link OciProcessJson}, {@link OciLinuxJson},
 * {@link OciResourcesJson}) with the generated builders, not walked over protobuf descriptors: building the
 * mirror's descriptors loads protobuf-java's {@code DescriptorProtos} (about 0.9 MB of AOT-cache pages plus heap in
 * every shim), and nothing else on the shim daemon's paths needs them. When oci.proto gains a field, its
 * converter gains a case; {@code OciSpecConverterParityTest} fails until it does.
 */
public final class OciSpecConverter {

    private OciSpecConverter() {
    }

    /**
     * Converts a whole spec.
     *
     * @param spec the config.json tree; null or JSON null gives an empty Spec
     * @throws IllegalArgumentException naming the JSON path of a value whose type does not fit the field
     */
    public static Spec toAgentSpec(JsonNode spec) {
        return OciSpecJson.spec(spec, "");
    }

    /**
     * Converts an OCI JSON object into the given protobuf message builder (e.g. an exec's Process), with
     * protobuf's merge rules: singular fields the JSON sets to a non-default value replace the builder's (a
     * JSON {@code 0}, {@code ""} or {@code false} leaves them, as proto3 does not carry defaults), message fields
     * merge, repeated fields append (annotations and sysctl entries too; a receiver keeps a repeated key's last
     * value, as a map put would).
     *
     * @param object  the OCI object; null or JSON null leaves {@code builder} as it is
     * @param builder a builder of the agent's mirror of that object: {@code Spec}, {@code Process},
     *                {@code LinuxResources}, {@code Linux}, {@code Root}, {@code User}, {@code Hooks} or {@code Mount}
     * @param path    the object's JSON path in messages ({@code ""} for the root, {@code "resources"})
     * @return {@code builder}, with the object's fields merged in
     * @throws IllegalArgumentException naming the JSON path of a value whose type does not fit the field, or
     *                                  naming the builder's type when it is none of the above
     */
    public static <B extends Message.Builder> B merge(JsonNode object, B builder, String path) {
        if (builder instanceof Process.Builder process) {
            process.mergeFrom(OciProcessJson.process(object, path));
        } else if (builder instanceof LinuxResources.Builder resources) {
            resources.mergeFrom(OciResourcesJson.resources(object, path));
        } else if (builder instanceof Spec.Builder spec) {
            spec.mergeFrom(OciSpecJson.spec(object, path));
        } else if (builder instanceof Linux.Builder linux) {
            linux.mergeFrom(OciLinuxJson.linux(object, path));
        } else if (builder instanceof Root.Builder root) {
            root.mergeFrom(OciSpecJson.root(object, path));
        } else if (builder instanceof User.Builder user) {
            user.mergeFrom(OciProcessJson.user(object, path));
        } else if (builder instanceof Hooks.Builder hooks) {
            hooks.mergeFrom(OciSpecJson.hooks(object, path));
        } else if (builder instanceof Mount.Builder mount) {
            mount.mergeFrom(OciSpecJson.mount(object, path));
        } else {
            throw new IllegalArgumentException("OCI spec " + OciJson.display(path) + ": no conversion into "
                    + builder.getClass().getName());
        }
        return builder;
    }
}
