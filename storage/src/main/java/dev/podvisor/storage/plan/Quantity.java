package dev.podvisor.storage.plan;

import java.math.BigDecimal;
import java.util.Map;

/** Kubernetes resource quantities ({@code 128Mi}, {@code 1G}, {@code 1.5Gi}, {@code 1e9}) as bytes. */
final class Quantity {

    private static final Map<String, BigDecimal> SUFFIXES = Map.ofEntries(
            Map.entry("Ki", BigDecimal.valueOf(1L << 10)), Map.entry("Mi", BigDecimal.valueOf(1L << 20)),
            Map.entry("Gi", BigDecimal.valueOf(1L << 30)), Map.entry("Ti", BigDecimal.valueOf(1L << 40)),
            Map.entry("Pi", BigDecimal.valueOf(1L << 50)), Map.entry("Ei", BigDecimal.valueOf(1L << 60)),
            Map.entry("k", BigDecimal.TEN.pow(3)), Map.entry("M", BigDecimal.TEN.pow(6)),
            Map.entry("G", BigDecimal.TEN.pow(9)), Map.entry("T", BigDecimal.TEN.pow(12)),
            Map.entry("P", BigDecimal.TEN.pow(15)), Map.entry("E", BigDecimal.TEN.pow(18)),
            Map.entry("m", new BigDecimal("0.001")), Map.entry("", BigDecimal.ONE));

    private Quantity() {
    }

    /**
     * Bytes of a quantity, rounded up.
     *
     * @throws IllegalArgumentException when it is not a quantity
     */
    static long parseBytes(String q) {
        String s = q.trim();
        int i = 0;
        while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.' || s.charAt(i) == '+')) {
            i++;
        }
        String number = s.substring(0, i);
        String suffix = s.substring(i);
        BigDecimal value;
        try {
            if (suffix.startsWith("e") || suffix.startsWith("E") && suffix.length() > 1) {
                value = new BigDecimal(number).scaleByPowerOfTen(Integer.parseInt(suffix.substring(1)));
            } else {
                BigDecimal unit = SUFFIXES.get(suffix);
                if (unit == null || number.isEmpty()) {
                    throw new IllegalArgumentException("not a quantity: '" + q + "'");
                }
                value = new BigDecimal(number).multiply(unit);
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a quantity: '" + q + "'", e);
        }
        return value.setScale(0, java.math.RoundingMode.CEILING).longValueExact();
    }

    /** Bytes of a kernel size option value ({@code 2M}, {@code 1G}, {@code 65536k}, {@code 4096}); powers of 1024. */
    static long parseKernelSize(String v) {
        String s = v.trim();
        long unit = 1;
        char last = Character.toLowerCase(s.charAt(s.length() - 1));
        switch (last) {
            case 'k' -> unit = 1L << 10;
            case 'm' -> unit = 1L << 20;
            case 'g' -> unit = 1L << 30;
            default -> { }
        }
        String digits = unit == 1 ? s : s.substring(0, s.length() - 1);
        return Long.parseLong(digits) * unit;
    }
}
