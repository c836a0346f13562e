package dev.podvisor.sandbox;

/**
 * Where a process's standard streams go on the host: containerd's FIFO paths (empty = not attached), as in
 * CreateTaskRequest / ExecProcessRequest fields stdin, stdout, stderr, terminal.
 *
 * @param stdin    FIFO the shim reads and forwards to the guest process's stdin; empty for none
 * @param stdout   FIFO the shim writes the guest process's stdout to; empty for none
 * @param stderr   FIFO for stderr; empty for none (always unused with a terminal: the pty merges them)
 * @param terminal whether the process has a pty in the guest
 */
public record ProcessStdio(String stdin, String stdout, String stderr, boolean terminal) {
}
