package dev.podvisor.storage.plan;

import java.util.List;
import java.util.Objects;

/**
 * One rootfs mount of the containerd {@code CreateTaskRequest} (containerd types.Mount).
 *
 * @param type    filesystem type ({@code overlay}, {@code ext4}, {@code xfs}, {@code bind}...)
 * @param source  device, image file or {@code overlay}
 * @param options mount options ({@code lowerdir=...}, {@code loop}, {@code ro}...)
 */
public record RootfsMount(String type, String source, List<String> options) {

    public RootfsMount {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(source, "source");
        options = options == null ? List.of() : List.copyOf(options);
    }
}
