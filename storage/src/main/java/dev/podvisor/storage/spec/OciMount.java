package dev.podvisor.storage.spec;

import java.util.List;
import java.util.Objects;

/**
 * One entry of the OCI runtime spec {@code mounts} array (runtime-spec config.md, "Mounts").
 *
 * @param destination absolute path inside the container
 * @param type        filesystem type ({@code bind}, {@code proc}, {@code tmpfs}...); empty when the spec omits it
 *                    (runc and Kata then treat the mount as a bind)
 * @param source      device, file or directory; empty when the spec omits it
 * @param options     mount options in spec order ({@code rbind}, {@code ro}, {@code nosuid}...)
 */
public record OciMount(String destination, String type, String source, List<String> options) {

    public OciMount {
        Objects.requireNonNull(destination, "destination");
        type = type == null ? "" : type;
        source = source == null ? "" : source;
        options = options == null ? List.of() : List.copyOf(options);
    }

    /**
     * Whether this is a bind mount as Kata decides it (kata-types mount.rs {@code get_mount_type}): type
     * {@code bind}, or no type, or type {@code none} with a {@code bind}/{@code rbind} option.
     */
    public boolean isBind() {
        if (type.equals("bind")) {
            return true;
        }
        boolean bindOption = options.contains("bind") || options.contains("rbind");
        return (type.isEmpty() || type.equals("none")) && (bindOption || type.isEmpty());
    }

    /** Whether the options contain {@code ro}. */
    public boolean readOnly() {
        return options.contains("ro");
    }
}
