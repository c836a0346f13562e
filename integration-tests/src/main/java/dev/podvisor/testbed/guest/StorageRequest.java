package dev.podvisor.testbed.guest;

import java.util.List;

/**
 * One kata agent {@code Storage} (agent.proto: driver=1, driver_options=2, source=3, fstype=4, options=5,
 * mount_point=6, fs_group=7, shared=8), independent of the generated protobuf class.
 *
 * @param driver        handler name: {@code virtio-fs}, {@code blk}, {@code ephemeral}, {@code local},
 *                      {@code bind}, {@code watchable-bind}
 * @param driverOptions e.g. {@code create_filesystem}
 * @param source        virtio-fs tag, PCI path, or guest path, depending on the driver
 * @param fstype        file system type for the mount
 * @param options       mount options
 * @param mountPoint    guest path to mount at
 * @param fsGroup       {@code fs_group.group_id}, or null when absent
 * @param shared        kept until DestroySandbox even when its containers are removed
 */
record StorageRequest(String driver, List<String> driverOptions, String source, String fstype,
                      List<String> options, String mountPoint, Integer fsGroup, boolean shared) {

    StorageRequest {
        driverOptions = List.copyOf(driverOptions);
        options = List.copyOf(options);
    }
}
