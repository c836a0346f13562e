package dev.podvisor.hypervisor.clh;

/**
 * A NIC backed by tap fds: its {@code vm.add-net} body and the fds that go with it as {@code SCM_RIGHTS}, one
 * per queue pair. The fds stay the caller's (it closes them once Cloud Hypervisor has its copies).
 *
 * @param config the body, e.g. {@link NetConfig#forTapFd}
 * @param tapFds the tap fds, {@code config.queuePairs()} of them
 */
public record TapNic(NetConfig config, int[] tapFds) {
}
