package dev.podvisor.storage.spec;

/**
 * A config.json that is not a JSON object, or a field of it with the wrong shape. The message names the field
 * (as a JSON path such as {@code mounts[2].destination}) and the offending value.
 */
public class OciSpecException extends IllegalArgumentException {

    /** @param message what is wrong, naming the field and value */
    public OciSpecException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong
     * @param cause   the parser's error
     */
    public OciSpecException(String message, Throwable cause) {
        super(message, cause);
    }
}
