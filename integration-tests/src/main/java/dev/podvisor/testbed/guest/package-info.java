/**
 * The testbed's guest emulator: the inside of one Cloud Hypervisor stand-in VM, standing in for the guest
 * kernel and the kata-agent (see {@code docs/architecture.md} "Testbed contract" and
 * {@code shared/design/testbed.md}).
 *
 * <p>{@link dev.podvisor.testbed.guest.GuestMain} is started by the cloud-hypervisor stand-in on
 * {@code vm.boot}. It learns its devices only from the control socket (virtio-fs tags with shared
 * directories, virtio-blk disks with PCI BDFs), keeps a per-VM guest root ({@code <vm-dir>/guest-root}, a
 * tmpfs) in its own mount namespace (a slave of the host's, so virtio-fs shows later host mounts and
 * nothing flows back), performs every Storage for real the way the agent's handlers do, runs containers
 * with runc on guest paths, and serves {@code grpc.AgentService} / {@code grpc.Health} over ttrpc on
 * {@code <vsock-listen-dir>/1024.sock}. Every agent request and answer goes to the VM's
 * {@code testbed.jsonl} with component {@code "guest"}.
 *
 * <p>Needs root, {@code runc}, {@code nsenter}/{@code unshare} (util-linux), {@code mkfifo} and, for
 * {@code create_filesystem}, {@code mkfs.ext4}.
 */
package dev.podvisor.testbed.guest;
