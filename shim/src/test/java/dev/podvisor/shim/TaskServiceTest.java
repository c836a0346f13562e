package dev.podvisor.shim;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.podvisor.protocols.containerd.events.TaskExit;
import dev.podvisor.protocols.containerd.task.v2.CreateTaskRequest;
import dev.podvisor.protocols.containerd.task.v2.DeleteRequest;
import dev.podvisor.protocols.containerd.task.v2.ExecProcessRequest;
import dev.podvisor.protocols.containerd.task.v2.KillRequest;
import dev.podvisor.protocols.containerd.task.v2.ShutdownRequest;
import dev.podvisor.protocols.containerd.task.v2.StartRequest;
import dev.podvisor.protocols.containerd.task.v2.StateRequest;
import dev.podvisor.protocols.containerd.task.v2.WaitRequest;
import dev.podvisor.protocols.containerd.types.task.Status;
import dev.podvisor.protocols.ttrpc.Code;
import dev.podvisor.protocols.ttrpc.TtrpcException;
import dev.podvisor.sandbox.PodSandbox;
import dev.podvisor.sandbox.ProcessStdio;
import dev.podvisor.sandbox.log.LogfmtLog;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Task service's containerd semantics, against a fake sandbox (no VM). */
class TaskServiceTest {

    static final int VMM_PID = 4242;

    /** A sandbox whose processes exit when the test says so. */
    static final class FakeSandbox implements PodSandbox {
        final Map<String, CompletableFuture<Integer>> exits = new ConcurrentHashMap<>();
        final List<String> calls = new CopyOnWriteArrayList<>();
        volatile boolean shutDown;

        CompletableFuture<Integer> exit(String cid, String execId) {
            return exits.computeIfAbsent(cid + "/" + execId, k -> new CompletableFuture<>());
        }

        @Override public void createContainer(ContainerRequest request) { calls.add("create " + request.id()); }
        @Override public void startContainer(String containerId) { calls.add("start " + containerId); }
        @Override public void startExec(String cid, String execId, byte[] processJson, ProcessStdio stdio) {
            calls.add("exec " + cid + "/" + execId + " " + new String(processJson));
        }
        @Override public int waitProcess(String cid, String execId) { return exit(cid, execId).join(); }
        @Override public void signal(String cid, String execId, int signal, boolean all) {
            calls.add("signal " + cid + "/" + execId + " " + signal);
            exit(cid, execId).complete(128 + signal);
        }
        @Override public void resizePty(String cid, String execId, int rows, int columns) { calls.add("resize"); }
        @Override public void closeStdin(String cid, String execId) { calls.add("closeStdin"); }
        @Override public void pauseContainer(String cid) { calls.add("pause"); }
        @Override public void resumeContainer(String cid) { calls.add("resume"); }
        @Override public void updateContainer(String cid, byte[] resourcesJson) { calls.add("update"); }
        @Override public Any stats(String cid) { return Any.getDefaultInstance(); }
        @Override public void removeContainer(String cid) { calls.add("remove " + cid); }
        @Override public void removeExec(String cid, String execId) { calls.add("removeExec " + cid + "/" + execId); }
        @Override public int vmmPid() { return VMM_PID; }
        @Override public void shutdown() { shutDown = true; }
    }

    record Event(String topic, Message event) {
    }

    final FakeSandbox sandbox = new FakeSandbox();
    final List<Event> events = new CopyOnWriteArrayList<>();
    final AtomicInteger exits = new AtomicInteger();
    final AtomicInteger boots = new AtomicInteger();
    final TaskService tasks = new TaskService(options -> {
        boots.incrementAndGet();
        return sandbox;
    }, (topic, event) -> events.add(new Event(topic, event)), LogfmtLog.discard(), exits::incrementAndGet);

    private void create(String id) {
        tasks.create(CreateTaskRequest.newBuilder().setId(id).setBundle("/b/" + id).setStdout("/fifo/out").build());
    }

    private List<String> topics() {
        return events.stream().map(Event::topic).toList();
    }

    @Test
    void lifecyclePublishesEventsInContainerdsOrder() {
        create("c1");
        assertEquals(VMM_PID, tasks.start(StartRequest.newBuilder().setId("c1").build()).getPid());
        assertEquals(Status.RUNNING, tasks.state(StateRequest.newBuilder().setId("c1").build()).getStatus());
        sandbox.exit("c1", "").complete(3);
        var waited = tasks.waitFor(WaitRequest.newBuilder().setId("c1").build());
        assertEquals(3, waited.getExitStatus());
        var state = tasks.state(StateRequest.newBuilder().setId("c1").build());
        assertEquals(Status.STOPPED, state.getStatus());
        assertEquals(3, state.getExitStatus());
        var deleted = tasks.delete(DeleteRequest.newBuilder().setId("c1").build());
        assertEquals(3, deleted.getExitStatus());
        assertEquals(VMM_PID, deleted.getPid());
        assertEquals(List.of(EventPublisher.TASK_CREATE, EventPublisher.TASK_START, EventPublisher.TASK_EXIT,
                EventPublisher.TASK_DELETE), topics());
        TaskExit exit = (TaskExit) events.get(2).event();
        assertEquals("c1", exit.getContainerId());
        assertEquals("c1", exit.getId());
        assertEquals(3, exit.getExitStatus());
        assertEquals(List.of("create c1", "start c1", "remove c1"), sandbox.calls);
        assertEquals(1, boots.get());
        assertFalse(tasks.hasContainers());
    }

    @Test
    void execHasItsOwnEventsAndExitStatus() {
        create("c1");
        tasks.start(StartRequest.newBuilder().setId("c1").build());
        tasks.exec(ExecProcessRequest.newBuilder().setId("c1").setExecId("e1")
                .setSpec(Any.newBuilder().setValue(com.google.protobuf.ByteString.copyFromUtf8("{\"args\":[\"ls\"]}"))).build());
        tasks.start(StartRequest.newBuilder().setId("c1").setExecId("e1").build());
        tasks.kill(KillRequest.newBuilder().setId("c1").setExecId("e1").setSignal(9).build());
        var waited = tasks.waitFor(WaitRequest.newBuilder().setId("c1").setExecId("e1").build());
        assertEquals(137, waited.getExitStatus());
        tasks.delete(DeleteRequest.newBuilder().setId("c1").setExecId("e1").build());
        assertEquals(List.of(EventPublisher.TASK_CREATE, EventPublisher.TASK_START, EventPublisher.TASK_EXEC_ADDED,
                EventPublisher.TASK_EXEC_STARTED, EventPublisher.TASK_EXIT, EventPublisher.TASK_DELETE), topics());
        assertTrue(sandbox.calls.contains("exec c1/e1 {\"args\":[\"ls\"]}"));
        assertEquals(Status.RUNNING, tasks.state(StateRequest.newBuilder().setId("c1").build()).getStatus());
    }

    @Test
    void unknownIdsAnswerNotFound() {
        var noContainer = assertThrows(TtrpcException.class, () -> tasks.state(StateRequest.newBuilder().setId("nope").build()));
        assertEquals(Code.NOT_FOUND, noContainer.code());
        create("c1");
        var noExec = assertThrows(TtrpcException.class, () -> tasks.kill(KillRequest.newBuilder().setId("c1").setExecId("x").setSignal(15).build()));
        assertEquals(Code.NOT_FOUND, noExec.code());
    }

    @Test
    void runningTaskCannotBeDeletedAndDuplicateCreateIsRefused() {
        create("c1");
        tasks.start(StartRequest.newBuilder().setId("c1").build());
        var running = assertThrows(TtrpcException.class, () -> tasks.delete(DeleteRequest.newBuilder().setId("c1").build()));
        assertEquals(Code.FAILED_PRECONDITION, running.code());
        var duplicate = assertThrows(TtrpcException.class, () -> create("c1"));
        assertEquals(Code.ALREADY_EXISTS, duplicate.code());
    }

    @Test
    void shutdownWaitsForTheLastContainer() {
        create("c1");
        tasks.shutdown(ShutdownRequest.newBuilder().setId("c1").build());
        assertEquals(0, exits.get());
        assertFalse(sandbox.shutDown);
        tasks.kill(KillRequest.newBuilder().setId("c1").setSignal(9).build()); // never started
        tasks.delete(DeleteRequest.newBuilder().setId("c1").build());
        tasks.shutdown(ShutdownRequest.newBuilder().setId("c1").build());
        assertEquals(1, exits.get());
        assertTrue(sandbox.shutDown);
    }
}
