package dev.podvisor.storage.exec;

/**
 * Executing a plan failed. Everything already done was undone before this was thrown (undo failures are attached as
 * suppressed exceptions); the cause is the original failure.
 */
public class PlanExecutionException extends RuntimeException {

    /**
     * @param message what failed, naming the container and the step
     * @param cause   the original failure
     */
    public PlanExecutionException(String message, Throwable cause) {
        super(message, cause);
    }
}
