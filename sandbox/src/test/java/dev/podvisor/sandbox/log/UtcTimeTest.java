package dev.podvisor.sandbox.log;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link UtcTime} writes what {@link Instant#toString()} writes, over years 0 to 9999. */
class UtcTimeTest {

    private static String format(long epochSecond, int nano) {
        StringBuilder out = new StringBuilder();
        UtcTime.append(out, epochSecond, nano);
        return out.toString();
    }

    private static void assertLikeInstant(long epochSecond, int nano) {
        assertEquals(Instant.ofEpochSecond(epochSecond, nano).toString(), format(epochSecond, nano),
                "epochSecond " + epochSecond + " nano " + nano);
    }

    @Test
    void edgesOfDaysMonthsLeapYearsAndTheRange() {
        long[] seconds = {0, -1, 86_399, 86_400, 951_782_400L /* 2000-02-29 */, 951_868_799L, 4_107_542_400L /* 2100-03-01 */,
            1_796_169_600L, -62_167_219_200L /* 0000-01-01 */, 253_402_300_799L /* 9999-12-31T23:59:59 */,
            -2_208_988_800L /* 1900-01-01 */, 1_709_164_800L /* 2024-02-29 */};
        int[] nanos = {0, 1, 999_999_999, 123_000_000, 123_456_000, 123_456_789, 1_000, 1_000_000};
        for (long s : seconds) {
            for (int n : nanos) {
                assertLikeInstant(s, n);
            }
        }
    }

    @Test
    void randomInstantsOverTheRange() {
        SplittableRandom random = new SplittableRandom(20261202);
        for (int i = 0; i < 200_000; i++) {
            long s = random.nextLong(-62_167_219_200L, 253_402_300_800L);
            int n = switch (i % 4) {
                case 0 -> 0;
                case 1 -> random.nextInt(1_000) * 1_000_000;
                case 2 -> random.nextInt(1_000_000) * 1_000;
                default -> random.nextInt(1_000_000_000);
            };
            assertLikeInstant(s, n);
        }
    }

    @Test
    void outOfRangeNamesTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> format(253_402_300_800L, 0));
        assertEquals("epochSecond outside years 0 to 9999: 253402300800", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> format(0, 1_000_000_000));
        assertEquals("nano outside 0 to 999999999: 1000000000", e.getMessage());
    }
}
