package dev.podvisor.sandbox.log;

/**
 * Writes an instant as {@link java.time.Instant#toString()} does (ISO-8601 in UTC, e.g.
 * {@code 2026-12-02T12:34:56.123Z}: the fraction in groups of three digits, none when it is zero), without
 * {@code java.time.format}. The log writes a timestamp on every line, and {@code Instant.toString} loads
 * {@code DateTimeFormatter} with its chronology and locale classes, about 100 classes that every shim JVM then
 * holds for this alone (decision 0011). Years 0 to 9999 only, which is what a log line carries.
 *
 * <p>The date comes from the day count by the days-from-civil inverse of Howard Hinnant's
 * "chrono-Compatible Low-Level Date Algorithms" (proleptic Gregorian calendar, as {@code java.time} uses).
 */
final class UtcTime {

    private UtcTime() {
    }

    /**
     * Appends the instant to {@code out}.
     *
     * @param epochSecond seconds since 1970-01-01T00:00:00Z, in years 0 to 9999
     * @param nano        nanoseconds within the second, 0 to 999,999,999
     * @throws IllegalArgumentException when either is out of range
     */
    static void append(StringBuilder out, long epochSecond, int nano) {
        if (epochSecond < -62_167_219_200L || epochSecond > 253_402_300_799L) {
            throw new IllegalArgumentException("epochSecond outside years 0 to 9999: " + epochSecond);
        }
        if (nano < 0 || nano > 999_999_999) {
            throw new IllegalArgumentException("nano outside 0 to 999999999: " + nano);
        }
        long days = Math.floorDiv(epochSecond, 86_400L);
        int secondOfDay = (int) Math.floorMod(epochSecond, 86_400L);
        // civil_from_days: eras of 400 years starting on 0000-03-01
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long monthIndex = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * monthIndex + 2) / 5 + 1);
        int month = (int) (monthIndex < 10 ? monthIndex + 3 : monthIndex - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);

        pad(out, year, 4).append('-');
        pad(out, month, 2).append('-');
        pad(out, day, 2).append('T');
        pad(out, secondOfDay / 3_600, 2).append(':');
        pad(out, secondOfDay / 60 % 60, 2).append(':');
        pad(out, secondOfDay % 60, 2);
        if (nano > 0) {
            out.append('.');
            if (nano % 1_000_000 == 0) {
                pad(out, nano / 1_000_000, 3);
            } else if (nano % 1_000 == 0) {
                pad(out, nano / 1_000, 6);
            } else {
                pad(out, nano, 9);
            }
        }
        out.append('Z');
    }

    private static StringBuilder pad(StringBuilder out, long value, int width) {
        String digits = Long.toString(value);
        for (int i = digits.length(); i < width; i++) {
            out.append('0');
        }
        return out.append(digits);
    }
}
