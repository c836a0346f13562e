package dev.podvisor.sandbox.network;

/**
 * The pod's network cannot be set up: the message names the netns, the interface and what failed (with the
 * command and its output when iproute2 refused).
 */
public final class NetworkException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public NetworkException(String message) {
        super(message);
    }

    public NetworkException(String message, Throwable cause) {
        super(message, cause);
    }
}
