package dev.podvisor.storage.plan;

import java.util.List;

/** One change the executor makes on the host. Order matters: actions run in list order and are undone in reverse. */
public sealed interface HostAction {

    /**
     * Mount containerd's rootfs mounts, in order, on {@code target} ({@code <bundle>/rootfs}).
     *
     * @param mounts the CreateTaskRequest rootfs mounts
     * @param target absolute host path
     */
    record RootfsHostMount(List<RootfsMount> mounts, String target) implements HostAction {
        public RootfsHostMount {
            mounts = List.copyOf(mounts);
        }
    }

    /**
     * Bind {@code source} into the writable tree of virtio-fs device {@code device} under {@code shareName}; one bind
     * per (device, share name) per sandbox, ref-counted across containers; read-only enforced on the host.
     *
     * @param device    {@code kataShared} or an extra device name
     * @param shareName path relative to the device's {@code rw/} tree ({@code sandbox-1a2b3c4d-data}, {@code <cid>/rootfs})
     * @param source    the resolved host path (no symlinks)
     * @param readOnly  bind read-only
     * @param directory whether the source is a directory (else a file: the bind target is a file)
     * @param scope     {@link StorageScope#POD} for a kubelet pod volume: held by the sandbox, unbound with it
     */
    record ShareBind(String device, String shareName, String source, boolean readOnly, boolean directory,
                     StorageScope scope) implements HostAction {

        /** A container-scoped share. */
        public ShareBind(String device, String shareName, String source, boolean readOnly, boolean directory) {
            this(device, shareName, source, readOnly, directory, StorageScope.CONTAINER);
        }
    }

    /**
     * Create an empty directory in the share so a guest mount point exists on the read-only virtio-fs.
     *
     * @param device    {@code kataShared} or an extra device name
     * @param shareName path relative to the device's {@code rw/} tree
     */
    record ShareMountPoint(String device, String shareName) implements HostAction {
    }

    /**
     * Create a sparse file of {@code sizeBytes} at {@code path} unless it exists (block-plain emptyDir {@code disk.img}).
     * It is left in place on undo: it lives in the emptyDir, which kubelet removes with the pod.
     *
     * @param path      absolute host path
     * @param sizeBytes apparent size in bytes
     */
    record CreateSparseFile(String path, long sizeBytes) implements HostAction {
    }
}
