package dev.podvisor.it.cri;

import dev.podvisor.it.support.BusyboxImage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A container of a pod spec (init or app).
 *
 * @param name    the container's name in the pod
 * @param image   an image imported into containerd's {@code k8s.io} namespace
 * @param command the command (CRI {@code command}; no args split)
 * @param mounts  its volume mounts, in order (the index names a subPath's bind mount)
 * @param env     environment variables
 */
public record Container(String name, String image, List<String> command, List<VolumeMount> mounts,
                        Map<String, String> env) {

    /** Copies the collections. */
    public Container {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(image, "image");
        command = List.copyOf(command);
        mounts = List.copyOf(mounts);
        env = Map.copyOf(env);
    }

    /** @return a busybox ({@link BusyboxImage#NAME}) container running {@code command} */
    public static Container busybox(String name, String... command) {
        return new Container(name, BusyboxImage.NAME, List.of(command), List.of(), Map.of());
    }

    /** @return this container with one more volume mount */
    public Container mount(VolumeMount mount) {
        List<VolumeMount> more = new ArrayList<>(mounts);
        more.add(mount);
        return new Container(name, image, command, more, env);
    }

    /** @return this container with a read-write mount of the whole volume at {@code containerPath} */
    public Container mount(String volume, String containerPath) {
        return mount(VolumeMount.of(volume, containerPath));
    }

    /** @return this container with one more environment variable */
    public Container env(String key, String value) {
        Map<String, String> more = new LinkedHashMap<>(env);
        more.put(key, value);
        return new Container(name, image, command, mounts, more);
    }
}
