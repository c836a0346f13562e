package dev.podvisor.storage.linux;

/**
 * The outcome of {@link Linux#waitpid(int, int)}, decoded from the raw {@code wstatus} the glibc way
 * ({@code WIFEXITED}, {@code WEXITSTATUS}, {@code WIFSIGNALED}, {@code WTERMSIG}).
 *
 * @param pid      the child that changed state, or 0 when {@link Linux#WNOHANG} was given and none had
 * @param exited   whether it exited normally
 * @param exitCode its exit code (0–255) when {@code exited}, 0 otherwise
 * @param signaled whether a signal killed it
 * @param signal   the signal that killed it when {@code signaled}, 0 otherwise
 */
public record WaitStatus(int pid, boolean exited, int exitCode, boolean signaled, int signal) {

    /** The result of a {@link Linux#WNOHANG} wait when no child has changed state. */
    public static final WaitStatus NONE = new WaitStatus(0, false, 0, false, 0);

    /** Decodes the raw {@code wstatus} of {@code pid} (x86_64 glibc bit layout). */
    public static WaitStatus decode(int pid, int status) {
        int low = status & 0x7f;
        if (low == 0) {
            return new WaitStatus(pid, true, (status >> 8) & 0xff, false, 0);
        }
        if (low != 0x7f) {
            return new WaitStatus(pid, false, 0, true, low);
        }
        return new WaitStatus(pid, false, 0, false, 0); // stopped (WUNTRACED) or continued
    }

    /** Whether nothing was reaped ({@link Linux#WNOHANG} and no child changed state). */
    public boolean none() {
        return pid == 0;
    }
}
