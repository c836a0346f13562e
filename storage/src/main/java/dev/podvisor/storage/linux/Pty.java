package dev.podvisor.storage.linux;

/**
 * A pseudo-terminal pair from {@link Linux#openPty()}.
 *
 * @param masterFd  the master side, open {@code O_RDWR|O_NOCTTY|O_CLOEXEC}; the caller closes it with
 *                  {@link Linux#close(int)}
 * @param slavePath the slave device, e.g. {@code /dev/pts/3}, unlocked and ready to open
 */
public record Pty(int masterFd, String slavePath) {
}
