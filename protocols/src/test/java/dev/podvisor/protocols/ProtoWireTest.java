package dev.podvisor.protocols;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.podvisor.protocols.agent.AgentProto;
import dev.podvisor.protocols.agent.CreateContainerRequest;
import dev.podvisor.protocols.agent.HealthProto;
import dev.podvisor.protocols.agent.Storage;
import dev.podvisor.protocols.containerd.cgroups.v1.MemoryStat;
import dev.podvisor.protocols.containerd.events.TaskExit;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.Envelope;
import dev.podvisor.protocols.containerd.events.ttrpc.v1.EventsTtrpcProto;
import dev.podvisor.protocols.containerd.runtimeoptions.v1.Options;
import dev.podvisor.protocols.containerd.task.v2.CreateTaskRequest;
import dev.podvisor.protocols.containerd.task.v2.ShimProto;
import dev.podvisor.protocols.containerd.types.task.Status;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Pins the names and numbers that must match containerd and Kata on the wire. */
class ProtoWireTest {

    private static int number(Descriptor d, String field) {
        return d.findFieldByName(field).getNumber();
    }

    private static List<String> methods(ServiceDescriptor s) {
        return s.getMethods().stream().map(m -> m.getName()).toList();
    }

    @Test
    void serviceFullNamesAreWhatTtrpcRoutesOn() {
        assertEquals("containerd.task.v2.Task", ShimProto.getDescriptor().findServiceByName("Task").getFullName());
        assertEquals("grpc.AgentService", AgentProto.getDescriptor().findServiceByName("AgentService").getFullName());
        assertEquals("grpc.Health", HealthProto.getDescriptor().findServiceByName("Health").getFullName());
        assertEquals("containerd.services.events.ttrpc.v1.Events",
                EventsTtrpcProto.getDescriptor().findServiceByName("Events").getFullName());
    }

    @Test
    void taskServiceHasAllSeventeenRpcs() {
        assertEquals(List.of("State", "Create", "Start", "Delete", "Pids", "Pause", "Resume", "Checkpoint", "Kill", "Exec",
                        "ResizePty", "CloseIO", "Update", "Wait", "Stats", "Connect", "Shutdown"),
                methods(ShimProto.getDescriptor().findServiceByName("Task")));
    }

    @Test
    void agentServiceHasTheRpcsTheRuntimeUses() {
        List<String> m = methods(AgentProto.getDescriptor().findServiceByName("AgentService"));
        assertTrue(m.containsAll(List.of("CreateSandbox", "DestroySandbox", "CreateContainer", "StartContainer",
                "RemoveContainer", "ExecProcess", "SignalProcess", "WaitProcess", "UpdateContainer", "UpdateEphemeralMounts",
                "StatsContainer", "PauseContainer", "ResumeContainer", "WriteStdin", "ReadStdout", "ReadStderr", "CloseStdin",
                "TtyWinResize", "UpdateInterface", "UpdateRoutes", "ListInterfaces", "ListRoutes", "AddARPNeighbors",
                "GetGuestDetails", "GetOOMEvent", "GetMetrics", "CopyFile", "GetVolumeStats", "ResizeVolume", "SetPolicy",
                "RemoveStaleVirtiofsShareMounts", "OnlineCPUMem", "SetGuestDateTime", "AddSwap")), m.toString());
    }

    @Test
    void fieldNumbersMatchUpstream() {
        assertEquals(10, number(CreateTaskRequest.getDescriptor(), "options"));
        assertEquals(3, number(CreateTaskRequest.getDescriptor(), "rootfs"));
        assertEquals(5, Status.PAUSING.getNumber());
        assertEquals(2, number(TaskExit.getDescriptor(), "id"));
        assertEquals(5, number(TaskExit.getDescriptor(), "exited_at"));
        assertEquals(4, number(Envelope.getDescriptor(), "event"));
        assertEquals(36, number(MemoryStat.getDescriptor(), "kernel_tcp"));
        assertEquals(2, number(Options.getDescriptor(), "config_path"));
        assertEquals(6, number(CreateContainerRequest.getDescriptor(), "OCI"));
        assertEquals(11, number(CreateContainerRequest.getDescriptor(), "stderr_port"));
        assertEquals(6, number(Storage.getDescriptor(), "mount_point"));
        assertEquals(8, number(Storage.getDescriptor(), "shared"));
        assertEquals(2, number(dev.podvisor.protocols.agent.FSGroup.getDescriptor(), "group_id"));
        assertEquals(6, number(dev.podvisor.protocols.agent.types.Interface.getDescriptor(), "devicePath"));
        assertEquals(4, number(dev.podvisor.protocols.containerd.cgroups.v2.Metrics.getDescriptor(), "memory"));
    }
}
