package dev.podvisor.protocols.ttrpc;

import dev.podvisor.protocols.google.rpc.Status;
import java.util.Objects;

/**
 * A non-OK ttrpc status: thrown by {@link TtrpcClient#call} when the server answers with a status other
 * than OK or the call cannot complete, and thrown by server handlers to answer with a specific status.
 *
 * <p>Unchecked. {@link #getMessage()} is exactly the status message (e.g. {@code "container x: not found"}),
 * which containerd shows and, for FAILED_PRECONDITION, inspects (suffix {@code ": conflict"}).
 */
public class TtrpcException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Code code;

    /**
     * @param code    status code; must not be {@link Code#OK}
     * @param message status message (null becomes "")
     * @throws IllegalArgumentException if code is OK
     */
    public TtrpcException(Code code, String message) {
        this(code, message, null);
    }

    /**
     * @param code    status code; must not be {@link Code#OK}
     * @param message status message (null becomes "")
     * @param cause   the underlying failure, kept for logs only (it does not travel on the wire)
     * @throws IllegalArgumentException if code is OK
     */
    public TtrpcException(Code code, String message, Throwable cause) {
        super(message == null ? "" : message, cause);
        this.code = Objects.requireNonNull(code, "code");
        if (code == Code.OK) {
            throw new IllegalArgumentException("TtrpcException code: OK is not an error");
        }
    }

    /** The status code. */
    public Code code() {
        return code;
    }

    /** This exception as the {@code google.rpc.Status} that goes into a ttrpc Response. */
    public Status toStatus() {
        return Status.newBuilder().setCode(code.value()).setMessage(getMessage()).build();
    }

    @Override
    public String toString() {
        return "ttrpc status " + code + ": " + getMessage();
    }
}
