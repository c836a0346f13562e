package dev.podvisor.protocols.ttrpc;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a server handler knows about the call it serves.
 *
 * @param service  fully-qualified service name, e.g. {@code containerd.task.v2.Task}
 * @param method   bare method name, e.g. {@code Create}
 * @param streamId the request's stream id (odd)
 * @param metadata Request metadata: keys lower-cased (as ttrpc's MD does), values in arrival order;
 *                 repeated keys keep all values. Unmodifiable. containerd sends its namespace under
 *                 {@code containerd-namespace-ttrpc}.
 * @param deadline when the caller gives up ({@code Request.timeout_nano} after arrival), empty if no timeout.
 *                 A handler still running then has already been answered DEADLINE_EXCEEDED; its result is
 *                 dropped. Handlers are not interrupted.
 * @param peerUid  peer uid from SO_PEERCRED, -1 if it could not be resolved
 * @param peerGid  peer gid from SO_PEERCRED, -1 if it could not be resolved
 */
public record CallContext(String service, String method, int streamId, Map<String, List<String>> metadata,
                          Optional<Instant> deadline, int peerUid, int peerGid) {

    /** Copies metadata into an unmodifiable map. */
    public CallContext {
        metadata = Map.copyOf(metadata);
    }

    /**
     * The first value of a metadata key.
     *
     * @param key key, any case (compared lower-cased)
     * @return the first value, or empty if the key is absent
     */
    public Optional<String> firstMetadata(String key) {
        List<String> values = metadata.get(key.toLowerCase(java.util.Locale.ROOT));
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }
}
