package dev.podvisor.storage.plan;

import java.util.List;

/**
 * An extra virtio-fs device: its own virtiofsd with its own arguments and shared directory, and its own
 * Cloud Hypervisor {@code FsConfig} whose tag is {@code name}. The default device ({@code kataShared}) is not listed.
 *
 * @param name         device name = virtio-fs tag
 * @param virtiofsArgs extra virtiofsd arguments
 * @param guestMountPoint where the guest mounts it ({@code /run/kata-containers/shared/<name>})
 */
public record VirtioFsDevice(String name, List<String> virtiofsArgs, String guestMountPoint) {

    public VirtioFsDevice {
        virtiofsArgs = List.copyOf(virtiofsArgs);
    }
}
