package dev.podvisor.sandbox.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.json.TreeFields;

import java.util.ArrayList;
import java.util.List;

/**
 * What Podvisor created in a pod netns, persisted in the sandbox state so that teardown, a failed start and
 * {@code delete} after a crash undo exactly that, and nothing it did not create. JSON shape ({@link #toJson()}):
 * {@code {"netns": "/var/run/netns/cni-1", "nics": [{"veth": "eth0", "tap": "tap0_kata", "tapCreated": true,
 * "vethQdisc": true}]}}.
 *
 * @param netns the pod netns path
 * @param nics  per endpoint, what exists because of Podvisor
 */
public record HostNetwork(String netns, List<Nic> nics) {

    public HostNetwork {
        nics = List.copyOf(nics);
    }

    /**
     * One endpoint's wiring.
     *
     * @param veth       the pod interface (not Podvisor's: never deleted, only its ingress qdisc)
     * @param tap        the tap name
     * @param tapCreated whether the tap exists because of Podvisor (deleting it removes its qdisc and filter)
     * @param vethQdisc  whether the ingress qdisc on the veth was added by Podvisor (deleting it removes the
     *                   veth→tap filter under it)
     */
    public record Nic(String veth, String tap, boolean tapCreated, boolean vethQdisc) {
    }

    /** No wiring yet in {@code netns}. */
    public static HostNetwork empty(String netns) {
        return new HostNetwork(netns, List.of());
    }

    /** This record with {@code nic} replacing the entry of the same tap, or appended. */
    public HostNetwork with(Nic nic) {
        List<Nic> copy = new ArrayList<>(nics);
        copy.removeIf(n -> n.tap().equals(nic.tap()));
        copy.add(nic);
        return new HostNetwork(netns, copy);
    }

    /** This wiring as JSON (shape in the class comment; a null name is written as JSON null). */
    public ObjectNode toJson() {
        ObjectNode tree = JsonTrees.NODES.objectNode().put("netns", netns);
        ArrayNode list = tree.putArray("nics");
        for (Nic nic : nics) {
            list.addObject().put("veth", nic.veth()).put("tap", nic.tap()).put("tapCreated", nic.tapCreated())
                    .put("vethQdisc", nic.vethQdisc());
        }
        return tree;
    }

    /**
     * The wiring {@link #toJson()} wrote.
     *
     * @param tree  its JSON
     * @param where its place in the document, for messages (e.g. {@code network})
     * @throws TreeFields.ShapeException naming the field and value when a key is missing or of another type
     */
    public static HostNetwork fromJson(JsonNode tree, String where) throws TreeFields.ShapeException {
        TreeFields fields = TreeFields.of(tree, where);
        JsonNode list = fields.array("nics");
        List<Nic> read = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            TreeFields nic = TreeFields.of(list.get(i), fields.where("nics") + "[" + i + "]");
            read.add(new Nic(nic.nullableText("veth"), nic.nullableText("tap"), nic.bool("tapCreated"),
                    nic.bool("vethQdisc")));
        }
        return new HostNetwork(fields.nullableText("netns"), read);
    }
}
