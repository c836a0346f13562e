package dev.podvisor.it.cri;

/**
 * What CRI ExecSync returned.
 *
 * @param exitCode the command's exit code
 * @param stdout   its standard output (UTF-8)
 * @param stderr   its standard error (UTF-8)
 */
public record ExecResult(int exitCode, String stdout, String stderr) {

    /** @return stdout without the trailing newline */
    public String out() {
        return stdout.strip();
    }

    /**
     * @return this result
     * @throws AssertionError when the exit code is not 0 (the message holds both streams)
     */
    public ExecResult requireSuccess() {
        if (exitCode != 0) {
            throw new AssertionError("exec exited " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr);
        }
        return this;
    }
}
