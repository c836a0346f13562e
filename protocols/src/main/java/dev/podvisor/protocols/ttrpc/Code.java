package dev.podvisor.protocols.ttrpc;

/**
 * gRPC status codes as carried in {@code google.rpc.Status.code} of a ttrpc Response.
 *
 * <p>Numbers follow grpc's codes.proto; containerd maps them to its errdefs (errgrpc), e.g. NOT_FOUND is
 * what lets containerd tolerate a Delete of a task that is already gone, and UNIMPLEMENTED is the answer for
 * unsupported RPCs (containerd docs/runtime-v2.md).
 */
public enum Code {
    /** 0: success. */
    OK(0),
    /** 1: the caller cancelled (Go: context.Canceled). */
    CANCELLED(1),
    /** 2: error without a more specific code. */
    UNKNOWN(2),
    /** 3: bad request (bad stream id, unparsable message, invalid field). */
    INVALID_ARGUMENT(3),
    /** 4: the deadline (Request.timeout_nano or the client's timeout) passed. */
    DEADLINE_EXCEEDED(4),
    /** 5: container, exec or file not found. */
    NOT_FOUND(5),
    /** 6: already exists. */
    ALREADY_EXISTS(6),
    /** 7: permission denied. */
    PERMISSION_DENIED(7),
    /** 8: a message over the 4 MiB limit. */
    RESOURCE_EXHAUSTED(8),
    /** 9: the object is not in the state the call needs. */
    FAILED_PRECONDITION(9),
    /** 10: aborted. */
    ABORTED(10),
    /** 11: out of range (Go: io.EOF). */
    OUT_OF_RANGE(11),
    /** 12: unknown service or method, or an RPC the server does not support. */
    UNIMPLEMENTED(12),
    /** 13: internal error. */
    INTERNAL(13),
    /** 14: the connection is gone ("ttrpc: closed"). */
    UNAVAILABLE(14),
    /** 15: data loss. */
    DATA_LOSS(15),
    /** 16: unauthenticated. */
    UNAUTHENTICATED(16);

    private static final Code[] BY_VALUE = values();

    private final int value;

    Code(int value) {
        this.value = value;
    }

    /** The wire number of this code (0..16). */
    public int value() {
        return value;
    }

    /**
     * The code for a wire number.
     *
     * @param value {@code google.rpc.Status.code}
     * @return the matching code; numbers outside 0..16 map to {@link #UNKNOWN} (as grpc-go does)
     */
    public static Code of(int value) {
        return value >= 0 && value < BY_VALUE.length ? BY_VALUE[value] : UNKNOWN;
    }
}
