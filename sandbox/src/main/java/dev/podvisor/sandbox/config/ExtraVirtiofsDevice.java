package dev.podvisor.sandbox.config;

import dev.podvisor.storage.virtiofs.ShellWords;
import dev.podvisor.storage.virtiofs.SafeVirtiofsdArgs;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One extra virtio-fs device (Podvisor's take on Kata RFC #7380, which Kata never shipped): its own virtiofsd
 * process, its own shared directory and its own Cloud Hypervisor {@code FsConfig} whose tag is {@link #name()}. It
 * is declared in {@code [hypervisor.clh] extra_virtiofs = ["<name>:<virtiofsd args>", ...]} or by the annotation
 * {@code io.katacontainers.config.hypervisor.extra_virtiofs = "<name>:<args>;<name>:<args>"}.
 *
 * <p>The arguments are this device's virtiofsd arguments in full: they are used instead of
 * {@code virtio_fs_extra_args} and {@code virtio_fs_cache} (which belong to the default {@code kataShared} device).
 * Podvisor itself adds the socket and the shared directory; every argument must be on the allow-list of
 * {@link SafeVirtiofsdArgs} ({@code --socket-path}, {@code --shared-dir}, {@code -o source=}, {@code --sandbox},
 * {@code --seccomp}... are refused with the device and the token named).
 *
 * @param name          the virtio-fs tag and device name: 1 to 36 bytes (the size of the tag field in the virtio-fs
 *                      device configuration), letters, digits, {@code _ . -}, starting with a letter or digit, not
 *                      {@code kataShared}; it also names the host directory and the guest mount point
 *                      {@code /run/kata-containers/shared/<name>}
 * @param virtiofsdArgs the virtiofsd arguments, split as a shell would (quotes respected, no expansion)
 */
public record ExtraVirtiofsDevice(String name, List<String> virtiofsdArgs) {

    /** The tag of the default virtio-fs device, which an extra device may not reuse. */
    public static final String DEFAULT_TAG = "kataShared";

    /** Maximum tag length in bytes: the virtio-fs device configuration's {@code tag} field is 36 bytes. */
    public static final int MAX_TAG_BYTES = 36;

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]*");

    /**
     * @throws ConfigException when the name or an argument breaks the rules in the class description (the message
     *                         does not say where the device came from; {@link #parse} adds that)
     */
    public ExtraVirtiofsDevice {
        Objects.requireNonNull(name, "name");
        virtiofsdArgs = List.copyOf(virtiofsdArgs);
        String problem = nameProblem(name);
        if (problem != null) {
            throw new ConfigException("extra virtio-fs device name '" + name + "': " + problem);
        }
        try {
            SafeVirtiofsdArgs.check(virtiofsdArgs, "extra virtio-fs device '" + name + "'");
        } catch (SafeVirtiofsdArgs.Refused e) {
            throw new ConfigException(e.getMessage());
        }
    }

    private static String nameProblem(String name) {
        if (name.isEmpty()) {
            return "empty";
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_TAG_BYTES) {
            return "longer than " + MAX_TAG_BYTES + " bytes (the virtio-fs tag size)";
        }
        if (name.equals(DEFAULT_TAG)) {
            return "reserved for the default virtio-fs device";
        }
        if (!NAME.matcher(name).matches()) {
            return "only letters, digits, '_', '.' and '-' are allowed, starting with a letter or digit";
        }
        return null;
    }

    /**
     * Parses one {@code "<name>:<virtiofsd args>"} entry. The name is what comes before the first {@code ':'},
     * trimmed; the arguments are split as a shell would.
     *
     * @param entry the entry, e.g. {@code "cachenone:-o cache=none --thread-pool-size=4"}
     * @param where where the entry came from, for errors, e.g. {@code [hypervisor.clh] extra_virtiofs} or
     *              {@code annotation io.katacontainers.config.hypervisor.extra_virtiofs}
     * @return the device
     * @throws ConfigException naming {@code where} and the entry: no ':', bad name, bad quoting, reserved argument
     */
    public static ExtraVirtiofsDevice parse(String entry, String where) {
        int colon = entry.indexOf(':');
        if (colon < 0) {
            throw new ConfigException(where + ": entry \"" + entry + "\": expected <name>:<virtiofsd args>");
        }
        String name = entry.substring(0, colon).trim();
        List<String> args;
        try {
            args = ShellWords.split(entry.substring(colon + 1));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": entry \"" + entry + "\": " + e.getMessage());
        }
        try {
            return new ExtraVirtiofsDevice(name, args);
        } catch (ConfigException e) {
            throw new ConfigException(where + ": entry \"" + entry + "\": " + e.getMessage());
        }
    }

    /**
     * Parses a list of entries and checks that names are unique.
     *
     * @param entries the entries
     * @param where   where they came from, for errors
     * @return the devices, in order
     * @throws ConfigException for a bad entry or a name given twice
     */
    public static List<ExtraVirtiofsDevice> parseAll(List<String> entries, String where) {
        List<ExtraVirtiofsDevice> devices = new ArrayList<>();
        for (String entry : entries) {
            devices.add(parse(entry, where));
        }
        requireUniqueNames(devices, where);
        return List.copyOf(devices);
    }

    /**
     * @param devices devices to check
     * @param where   where they came from, for errors
     * @throws ConfigException naming the first duplicated device name
     */
    static void requireUniqueNames(List<ExtraVirtiofsDevice> devices, String where) {
        Set<String> seen = new HashSet<>();
        for (ExtraVirtiofsDevice d : devices) {
            if (!seen.add(d.name())) {
                throw new ConfigException(where + ": extra virtio-fs device '" + d.name() + "' is declared twice");
            }
        }
    }
}
