package dev.podvisor.storage.plan;

/**
 * How long what the planner set up for a mount lives: with the container that asked for it, or with the pod.
 *
 * <p>Kubernetes promises that a pod's volumes live as long as the pod and survive container restarts, so
 * everything that holds a pod volume's data or presents it to the guest is pod-scoped: a memory emptyDir's guest
 * tmpfs, a hugepages emptyDir's guest hugetlbfs, a block-plain emptyDir's disk and guest mount, the sandbox
 * {@code /dev/shm}, and the virtio-fs bind of a kubelet pod volume directory
 * ({@code <pod>/volumes/<plugin>/<name>}). It is created with the first container that uses it, referenced (not
 * re-created) by later ones, and torn down with the sandbox. The agent side is Kata's {@code Storage.shared}
 * (kata-agent sandbox.rs {@code add_sandbox_storage(path, shared)}: a shared storage stays mounted when its
 * reference count reaches zero, until the sandbox is destroyed).
 *
 * <p>Everything else is container-scoped and ref-counted across the containers that use it at the same time: a
 * container's rootfs, per-container files (termination log, {@code /etc/hosts} when not a volume), host paths and
 * block volumes (their data lives on the host, so re-attaching them gives the same data, as Kata Go detaches a
 * container's block devices with the container).
 */
public enum StorageScope {
    /** Lives as long as the sandbox. */
    POD("pod"),
    /** Released with the last container using it. */
    CONTAINER("container");

    private final String wireName;

    StorageScope(String wireName) {
        this.wireName = wireName;
    }

    /** {@code pod} or {@code container}, as {@code podvisor plan} and the logs write it. */
    public String wireName() {
        return wireName;
    }
}
