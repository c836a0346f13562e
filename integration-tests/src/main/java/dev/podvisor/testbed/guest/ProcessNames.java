package dev.podvisor.testbed.guest;

/**
 * How the agent names a container's processes, so that any shim's {@code exec_id} finds the same process as
 * with the real kata-agent (Kata 3.x {@code src/agent}):
 * <ul>
 *   <li>the container's main (init) process is registered under exec id = the container id
 *       ({@code rpc.rs do_create_container}: {@code Process::new(.., cid, init = true, ..)}), and
 *       {@code sandbox.rs find_container_process} also maps {@code exec_id == ""} to it. So both {@code ""}
 *       and the container id address the main process in every call (ReadStdout/ReadStderr, WriteStdin,
 *       CloseStdin, WaitProcess, SignalProcess, TtyWinResize). Kata's Go shim sends the container id;
 *       Podvisor and runtime-rs send {@code ""}.</li>
 *   <li>the processes of a container live in one map keyed by exec id ({@code rustjail container.rs
 *       get_process}), so an {@code ExecProcess} whose exec id is the container id would take the main
 *       process's name: refused here as a duplicate.</li>
 * </ul>
 */
final class ProcessNames {

    private ProcessNames() {
    }

    /**
     * @param containerId the request's {@code container_id}
     * @param execId      the request's {@code exec_id} (null is read as {@code ""})
     * @return whether {@code execId} names the container's main process: {@code ""} or the container id
     */
    static boolean namesMainProcess(String containerId, String execId) {
        return execId == null || execId.isEmpty() || execId.equals(containerId);
    }

    /**
     * Refuses an {@code ExecProcess} exec id that names the main process.
     *
     * @throws IllegalStateException ("... already exists", mapped to ALREADY_EXISTS) when {@code execId} is the
     *                               container id
     */
    static void requireExecName(String containerId, String execId) {
        if (execId != null && execId.equals(containerId)) {
            throw new IllegalStateException("exec " + execId + " of container " + containerId
                    + ": the container's main process holds this exec id (kata-agent registers it under the"
                    + " container id): already exists");
        }
    }
}
