package dev.podvisor.sandbox;

import dev.podvisor.protocols.agent.VolumeCondition;
import dev.podvisor.protocols.agent.VolumeStatsResponse;
import dev.podvisor.protocols.agent.VolumeUsage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AgentGuestVolumesTest {

    @Test
    void theGuestMountPointIsWhereThePlannerMountsDirectVolumes() {
        assertEquals("/run/kata-containers/sandbox/storage/L2Rldi9sb29wMw==", AgentGuestVolumes.guestMountPoint("/dev/loop3"));
        assertEquals(AgentGuestVolumes.guestMountPoint("/run/spdk/vhost.sock"),
                AgentGuestVolumes.guestMountPoint("spdk:///run/spdk/vhost.sock"));
        assertThrows(IllegalArgumentException.class, () -> AgentGuestVolumes.guestMountPoint("loop3"));
    }

    @Test
    void statsAreGoJsonOfTheAgentsAnswer() {
        VolumeStatsResponse stats = VolumeStatsResponse.newBuilder()
                .addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(4096).setUsed(1024).setAvailable(3072))
                .addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.INODES).setTotal(16).setUsed(0).setAvailable(16))
                .setVolumeCondition(VolumeCondition.newBuilder().setAbnormal(false))
                .build();
        assertEquals("{\"usage\":[{\"available\":3072,\"total\":4096,\"used\":1024,\"unit\":1},"
                + "{\"available\":16,\"total\":16,\"unit\":2}],\"volume_condition\":{}}", AgentGuestVolumes.toJson(stats));
        assertEquals("{\"usage\":[{\"total\":18446744073709551615,\"unit\":1}]}", AgentGuestVolumes.toJson(
                VolumeStatsResponse.newBuilder().addUsage(VolumeUsage.newBuilder().setUnit(VolumeUsage.Unit.BYTES).setTotal(-1)).build()));
    }
}
