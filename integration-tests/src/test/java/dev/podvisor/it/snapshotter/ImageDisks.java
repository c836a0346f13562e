package dev.podvisor.it.snapshotter;

import java.nio.file.Path;

/**
 * The disk work behind {@link SnapshotStore}: ext4 image files and the loop devices they are attached to. Split
 * out so that the bookkeeping can be unit-tested without root ({@link LoopImageDisks} is the real one).
 * Every method throws {@link IllegalStateException} (message naming the command and its output) when it fails.
 */
interface ImageDisks {

    /**
     * Makes a fresh, empty filesystem image.
     *
     * @param image the file to create (must not exist)
     */
    void create(Path image);

    /**
     * Makes {@code to} a copy of {@code from} (a child snapshot starts as its parent's content).
     *
     * @param from an existing image
     * @param to   the file to create
     */
    void copy(Path from, Path to);

    /**
     * Attaches an image to a free loop device.
     *
     * @param image    the image file
     * @param readOnly whether the device is read-only ({@code losetup -r})
     * @return the device, e.g. {@code /dev/loop7}
     */
    String attach(Path image, boolean readOnly);

    /**
     * Detaches a loop device (a device still open, e.g. by a VM, goes away when closed: the kernel's autoclear).
     *
     * @param device e.g. {@code /dev/loop7}
     */
    void detach(String device);

    /**
     * @param image an image file
     * @return the bytes it allocates on the host (sparse files count what is written)
     */
    long allocatedBytes(Path image);
}
