package dev.podvisor.storage.plan;

/**
 * The inputs cannot be planned: a malformed annotation, a declaration that contradicts the host, an invalid
 * direct-volume record, a missing bind source, a destination with {@code ..}. The message names the field
 * (annotation, mountInfo.json key, mount destination) and the offending value.
 */
public class PlanException extends IllegalArgumentException {

    private String rule = "";

    /** @param message what is wrong, naming the field and the value */
    public PlanException(String message) {
        super(message);
    }

    /**
     * The id of the decision-table rule that refused the mount ({@code emptydir-tmpfs}, {@code direct-volume},
     * ...), or empty when the input was refused before any rule decided (annotations, rootfs).
     */
    public String rule() {
        return rule;
    }

    /** Records the refusing rule, once (the planner calls it); returns this. */
    PlanException inRule(String ruleId) {
        if (rule.isEmpty()) {
            rule = ruleId;
        }
        return this;
    }

    /**
     * @param message what is wrong
     * @param cause   underlying error
     */
    public PlanException(String message, Throwable cause) {
        super(message, cause);
    }
}
