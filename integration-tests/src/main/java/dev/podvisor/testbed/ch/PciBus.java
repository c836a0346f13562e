package dev.podvisor.testbed.ch;

import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The VM's PCI devices: slots per segment (slot 0 is the host bridge, 32 slots per bus) and the device ids
 * Cloud Hypervisor hands out from one shared counter ({@code _disk0}, {@code _net1}, {@code _fs2}, ...).
 * Not thread-safe: the stand-in's VMM lock guards it.
 */
final class PciBus {
    private static final int SLOTS_PER_BUS = 32;

    /**
     * One device on the bus.
     *
     * @param id      CH's device id ({@code __console}, {@code _disk0}, ...)
     * @param kind    the VmConfig list it comes from ({@code disks}, {@code net}, {@code fs}, ...) or a
     *                singleton name ({@code console}, {@code rng}, {@code vsock}, ...)
     * @param segment PCI segment
     * @param slot    PCI slot (device number) on bus 0 of that segment
     */
    record Device(String id, String kind, int segment, int slot) {
        /** @return {@code SSSS:00:DD.0} */
        String bdf() {
            return String.format("%04x:00:%02x.0", segment, slot);
        }
    }

    private final Map<Integer, BitSet> slots = new HashMap<>();
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private long idCounter;

    /** Forgets every device, slot and the id counter (a VM that is not running). */
    void clear() {
        slots.clear();
        devices.clear();
        idCounter = 0;
    }

    /**
     * @param prefix e.g. {@code _net}
     * @param taken  ids already used elsewhere (e.g. by the VM config)
     * @return the next free id from the shared counter
     */
    String nextId(String prefix, Predicate<String> taken) {
        while (true) {
            String id = prefix + idCounter++;
            if (!devices.containsKey(id) && !taken.test(id)) {
                return id;
            }
        }
    }

    /**
     * Takes the lowest free slot of a segment.
     *
     * @param segment PCI segment
     * @param what    the outer error message of the request
     * @return the slot
     * @throws ApiError 500 when the bus is full
     */
    int takeSlot(int segment, String what) throws ApiError {
        BitSet used = slots.computeIfAbsent(segment, s -> {
            BitSet b = new BitSet(SLOTS_PER_BUS);
            b.set(0); // the PCI root / host bridge
            return b;
        });
        int slot = used.nextClearBit(0);
        if (slot >= SLOTS_PER_BUS) {
            throw ApiError.of(500, "Error from API", what, "No available PCI slot on segment " + segment);
        }
        used.set(slot);
        return slot;
    }

    /** Gives back a slot taken with {@link #takeSlot} for a device that was not added after all. */
    void release(int segment, int slot) {
        BitSet used = slots.get(segment);
        if (used != null) {
            used.clear(slot);
        }
    }

    /** @param device a device whose slot was taken with {@link #takeSlot} */
    void add(Device device) {
        devices.put(device.id(), device);
    }

    /** @param id device id @return the device or null */
    Device get(String id) {
        return devices.get(id);
    }

    /** @param id device id @return true when a device has that id */
    boolean has(String id) {
        return devices.containsKey(id);
    }

    /** Removes a device and frees its slot. @param id device id @return the removed device or null */
    Device remove(String id) {
        Device dev = devices.remove(id);
        if (dev != null) {
            release(dev.segment(), dev.slot());
        }
        return dev;
    }

    /** @return the devices in creation order */
    Collection<Device> devices() {
        return devices.values();
    }
}
