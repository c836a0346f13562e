package dev.podvisor.testbed.guest;

import java.util.ArrayList;
import java.util.List;

/**
 * The netlink neighbour {@code state} (NUD_*) and {@code flags} (NTF_*) bits of {@code ARPNeighbor}, as
 * {@code ip neigh} words ({@code <linux/neighbour.h>}).
 */
final class NeighborState {
    private NeighborState() {
    }

    /**
     * @param state a NUD_* value (the agent passes the host's raw value; one bit is expected)
     * @return the {@code nud} word, {@code permanent} for 0 (Kata sends only permanent or reachable entries)
     * @throws IllegalArgumentException for a value that is no single NUD state
     */
    static String name(int state) {
        return switch (state) {
            case 0, 0x80 -> "permanent";
            case 0x01 -> "incomplete";
            case 0x02 -> "reachable";
            case 0x04 -> "stale";
            case 0x08 -> "delay";
            case 0x10 -> "probe";
            case 0x20 -> "failed";
            case 0x40 -> "noarp";
            default -> throw new IllegalArgumentException("ARPNeighbor.state " + state + ": not a single NUD_* state");
        };
    }

    /** @param flags NTF_* bits @return the {@code ip neigh} flag words (proxy, router, extern_learn) */
    static List<String> flags(int flags) {
        List<String> out = new ArrayList<>();
        if ((flags & 0x08) != 0) {
            out.add("proxy");
        }
        if ((flags & 0x80) != 0) {
            out.add("router");
        }
        if ((flags & 0x10) != 0) {
            out.add("extern_learn");
        }
        return out;
    }
}
