package dev.podvisor.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podvisor.it.support.BusyboxImage;
import dev.podvisor.it.support.CommandResult;
import dev.podvisor.it.support.PrivateContainerd;
import dev.podvisor.it.support.Tasks;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * What a user does with {@code ctr} and runtime {@value #RUNTIME}, asserted on the outcomes: echo, exit code,
 * stdin, tty with window size, exec with stdin, metrics, pause/resume, SIGTERM and SIGKILL. Run against
 * Podvisor's shim ({@link CtrRunIT}) and against Kata's own Go shim ({@link KataPeerIT}), both on the testbed:
 * the same scenarios must hold for both.
 */
abstract class CtrScenarios {

    static final String RUNTIME = "io.containerd.kata.v2";
    static final String IMAGE = BusyboxImage.NAME;

    /** @return the running private containerd whose kata runtime is the shim under test */
    abstract PrivateContainerd containerd();

    /** @return a container id unique to this run, remembered for the leftover check */
    abstract String id(String stem);

    /** @return how long one ctr command may take */
    abstract Duration timeout();

    /** @return extra text for failure messages (e.g. the tail of containerd's log) */
    String diagnostics() {
        return "";
    }

    CommandResult run(String id, String... command) {
        return Tasks.runRm(containerd(), timeout(), RUNTIME, IMAGE, id, command);
    }

    String awaitStatus(String id, String status) {
        return Tasks.awaitStatus(containerd(), id, status, timeout());
    }

    @Test
    void echoPrintsHello() {
        CommandResult result = run(id("hello"), "echo", "hello");
        assertEquals(0, result.exitCode(), result + diagnostics());
        assertEquals("hello\n", result.stdout());
    }

    @Test
    void exitStatusAndStderrComeBack() {
        CommandResult result = run(id("exit"), "sh", "-c", "echo to-stderr >&2; exit 3");
        assertEquals(3, result.exitCode(), result + diagnostics());
        assertEquals("to-stderr\n", result.stderr(), result.toString());
    }

    @Test
    void stdinPipedToTheContainerComesBack() {
        CommandResult result = containerd().runWithStdin("piped through the VM\n", "run", "--rm", "--runtime", RUNTIME,
                IMAGE, id("stdin"), "head", "-n", "1");
        assertEquals(0, result.exitCode(), result + diagnostics());
        assertEquals("piped through the VM\n", result.stdout());
    }

    @Test
    void terminalGivesAPtyThatFollowsTheWindowSize() {
        CommandResult result = Tasks.runWithTerminal(containerd(), timeout(), RUNTIME, IMAGE, id("tty"));
        assertEquals(0, result.exitCode(), result + diagnostics());
        assertTrue(result.stdout().contains("/dev/pts/"), result.toString());
        assertTrue(result.stdout().contains("40 120"), "the guest pty has ctr's window size: " + result);
    }

    @Test
    void execMetricsPauseAndSigtermOfARunningTask() {
        String id = runLoopingTask("exec");
        execsAnswer(id);
        metricsPauseAndResume(id);
        assertEquals("after resume\n", containerd().ctr(timeout(), "task", "exec", "--exec-id", "e3", id,
                "echo", "after resume").stdout());
        sigtermEndsWith143(id);
    }

    /** {@code ctr run -d} of a task that loops until SIGTERM; its id. */
    String runLoopingTask(String stem) {
        String id = id(stem);
        containerd().ctr(timeout(), "run", "-d", "--runtime", RUNTIME, IMAGE, id,
                "sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.2; done").requireSuccess();
        return id;
    }

    /** Two execs without a terminal: output and exit status, then stdin piped through. */
    void execsAnswer(String id) {
        CommandResult exec = containerd().ctr(timeout(), "task", "exec", "--exec-id", "e1", id,
                "sh", "-c", "echo from-exec; exit 7");
        assertEquals(7, exec.exitCode(), exec + diagnostics());
        assertEquals("from-exec\n", exec.stdout());
        CommandResult execStdin = containerd().runWithStdin("to the exec\n", "task", "exec", "--exec-id", "e2", id,
                "head", "-n", "1");
        assertEquals("to the exec\n", execStdin.stdout(), execStdin.toString());
    }

    /** Metrics from the container's cgroup in the guest (cgroup v1 Metrics), then pause and resume. */
    void metricsPauseAndResume(String id) {
        CommandResult metrics = containerd().ctr("task", "metrics", id);
        assertEquals(0, metrics.exitCode(), metrics.toString());
        assertTrue(metrics.stdout().lines().map(String::strip)
                .anyMatch(l -> l.matches("memory\\.usage_in_bytes\\s+[1-9][0-9]*")), metrics.toString());
        assertTrue(metrics.stdout().lines().map(String::strip)
                .anyMatch(l -> l.matches("pids\\.current\\s+[1-9][0-9]*")), metrics.toString());

        containerd().ctr("task", "pause", id).requireSuccess();
        assertEquals("PAUSED", awaitStatus(id, "PAUSED"));
        containerd().ctr("task", "resume", id).requireSuccess();
        assertEquals("RUNNING", awaitStatus(id, "RUNNING"));
    }

    /** SIGTERM ends the looping task with 143; then it and its container are deleted. */
    void sigtermEndsWith143(String id) {
        containerd().ctr("task", "kill", "-s", "SIGTERM", id).requireSuccess();
        assertEquals("STOPPED", awaitStatus(id, "STOPPED"));
        CommandResult deleted = containerd().ctr("task", "delete", id);
        assertTrue(deleted.ok(), deleted.toString());
        assertTrue(deleted.stderr().contains("exit code 143"), deleted.toString());
        containerd().ctr("container", "rm", id).requireSuccess();
    }

    @Test
    void sigkillEndsTheTaskWith137() {
        String id = id("kill");
        CompletableFuture<CommandResult> running = CompletableFuture.supplyAsync(() -> run(id, "sleep", "1000"));
        assertEquals("RUNNING", awaitStatus(id, "RUNNING"));
        containerd().ctr("task", "kill", "-s", "SIGKILL", id).requireSuccess();
        CommandResult result = running.join();
        assertEquals(137, result.exitCode(), result.toString());
    }
}
