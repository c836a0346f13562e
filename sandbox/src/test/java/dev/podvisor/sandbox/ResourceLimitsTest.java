package dev.podvisor.sandbox;

import dev.podvisor.sandbox.config.ConfigLoader;
import dev.podvisor.sandbox.config.PodvisorExtras;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ResourceLimitsTest {

    @Test
    void defaultsAndNamedErrors() {
        PodvisorExtras limits = PodvisorExtras.defaults();
        assertDoesNotThrow(() -> ResourceLimits.checkExtraVirtiofs(8, limits));
        IllegalArgumentException devices = assertThrows(IllegalArgumentException.class,
                () -> ResourceLimits.checkExtraVirtiofs(200, limits));
        assertEquals("too many extra virtio-fs devices: [hypervisor.clh] extra_virtiofs and annotation"
                + " io.katacontainers.config.hypervisor.extra_virtiofs declare 200, at most 8 are allowed"
                + " ([podvisor] max_extra_virtiofs)", devices.getMessage());
        assertDoesNotThrow(() -> ResourceLimits.checkMounts("c1", 1024, limits));
        IllegalArgumentException mounts = assertThrows(IllegalArgumentException.class,
                () -> ResourceLimits.checkMounts("c1", 1025, limits));
        assertEquals("container c1: too many mounts: config.json mounts has 1025, at most 1024 are allowed"
                + " ([podvisor] max_container_mounts)", mounts.getMessage());
    }

    @Test
    void limitsAreConfigurable() {
        PodvisorExtras limits = ConfigLoader.parse("[podvisor]\nmax_extra_virtiofs = 2\nmax_container_mounts = 10\n",
                "<t>").podvisor();
        assertEquals(2, limits.maxExtraVirtiofs());
        assertEquals(10, limits.maxContainerMounts());
        assertThrows(IllegalArgumentException.class, () -> ResourceLimits.checkExtraVirtiofs(3, limits));
        assertThrows(IllegalArgumentException.class, () -> ConfigLoader.parse("[podvisor]\nmax_extra_virtiofs = 1000\n", "<t>"));
    }
}
