package dev.podvisor.hypervisor.clh;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PciPathsTest {
    @ParameterizedTest
    @CsvSource({"0000:00:05.0,05", "0000:00:00.0,00", "0000:00:1f.0,1f", "0000:00:1F.0,1f", "0000:00:0a.0,0a"})
    void slotOfBusZeroFunctionZero(String bdf, String path) {
        assertEquals(path, PciPaths.fromBdf(bdf));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0001:00:05.0", "0000:01:05.0", "0000:00:05.1", "00:05.0", "0000:00:5.0",
            "0000:00:005.0", "0000:00:zz.0", "", "0000:00:05.0 ", "0000:00:05"})
    void otherAddressesAreErrors(String bdf) {
        var e = assertThrows(IllegalArgumentException.class, () -> PciPaths.fromBdf(bdf));
        assertEquals("PCI address from cloud-hypervisor '" + bdf
                + "': expected 0000:00:DD.0 (segment 0, bus 0, function 0)", e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0000:00:20.0", "0000:00:ff.0"})
    void slotAbove1fIsAnError(String bdf) {
        var e = assertThrows(IllegalArgumentException.class, () -> PciPaths.fromBdf(bdf));
        assertTrue(e.getMessage().endsWith("exceeds 0x1f"), e.getMessage());
    }

    @org.junit.jupiter.api.Test
    void nullIsAnError() {
        var e = assertThrows(IllegalArgumentException.class, () -> PciPaths.fromBdf(null));
        assertEquals("PCI address from cloud-hypervisor: missing", e.getMessage());
    }
}
