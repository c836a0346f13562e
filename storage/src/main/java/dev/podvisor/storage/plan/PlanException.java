package dev.podvisor.storage.plan;

/**
 * The inputs cannot be planned: a malformed annotation, a declaration that contradicts the host, an invalid
 * direct-volume record, a missing bind source, a destination with {@code ..}. The message names the field
 * (annotation, mountInfo.json key, mount destination) and the offending value.
 */
public class PlanException extends IllegalArgumentException {

    /** @param message what is wrong, naming the field and the value */
    public PlanException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong
     * @param cause   underlying error
     */
    public PlanException(String message, Throwable cause) {
        super(message, cause);
    }
}
