/**
 * Linux access for the shim through the FFM API ({@code java.lang.foreign}, never JNI): system calls
 * ({@link dev.podvisor.storage.linux.Linux}), their errors ({@link dev.podvisor.storage.linux.LinuxException}),
 * the mount table ({@link dev.podvisor.storage.linux.MountInfo}), host mount operations
 * ({@link dev.podvisor.storage.linux.HostMounts}), loop devices
 * ({@link dev.podvisor.storage.linux.LoopDevices}), the {@code runc --console-socket} receiver
 * ({@link dev.podvisor.storage.linux.ConsoleSocket}), unix sockets that pass fds
 * ({@link dev.podvisor.storage.linux.UnixSockets}), network namespaces ({@link dev.podvisor.storage.linux.Netns}),
 * TUN/TAP devices ({@link dev.podvisor.storage.linux.Tun}) and the live
 * {@link dev.podvisor.storage.host.HostFacts} ({@link dev.podvisor.storage.linux.LiveHostFacts}).
 *
 * <p><b>x86_64 Linux with glibc only.</b> Assumed C types: {@code long}, {@code size_t}, {@code ssize_t},
 * pointers 8 bytes; {@code int}, {@code pid_t}, {@code uid_t}, {@code socklen_t} 4 bytes. Assumed struct
 * layouts (byte offsets):
 * <ul>
 *   <li>{@code struct statfs} (120): f_type @0, f_bsize @8, f_blocks @16, f_bfree @24, f_bavail @32,
 *       f_files @40, f_ffree @48, f_fsid @56, f_namelen @64, f_frsize @72, f_flags @80, f_spare @88;</li>
 *   <li>{@code struct winsize} (8): ws_row @0, ws_col @2, ws_xpixel @4, ws_ypixel @6 (u16 each);</li>
 *   <li>{@code struct loop_info64} (232): lo_flags @52, lo_file_name[64] @56; {@code struct loop_config}
 *       (304): fd @0, block_size @4, info @8, __reserved @240;</li>
 *   <li>{@code struct sockaddr_un} (110): sun_family u16 @0, sun_path[108] @2;</li>
 *   <li>{@code struct msghdr} (56): msg_name @0, msg_namelen @8, msg_iov @16, msg_iovlen @24,
 *       msg_control @32, msg_controllen @40, msg_flags @48; {@code struct iovec} (16): base @0, len @8;
 *       {@code struct cmsghdr} (16 + data): cmsg_len @0 (size_t), cmsg_level @8, cmsg_type @12;</li>
 *   <li>{@code struct pollfd} (8): fd @0, events @4, revents @6;</li>
 *   <li>{@code struct ifreq} (40): ifr_name[16] @0, ifr_flags (short) @16.</li>
 * </ul>
 * ioctl numbers: BLKROGET 0x125e, BLKGETSIZE64 0x80081272, TIOCGWINSZ 0x5413, TIOCSWINSZ 0x5414,
 * LOOP_SET_FD 0x4C00, LOOP_CLR_FD 0x4C01, LOOP_SET_STATUS64 0x4C04, LOOP_CONFIGURE 0x4C0A,
 * LOOP_CTL_GET_FREE 0x4C82, TUNSETIFF 0x400454ca, TUNSETPERSIST 0x400454cb, TUNGETIFF 0x800454d2,
 * TUNGETVNETHDRSZ 0x800454d7, TUNSETVNETHDRSZ 0x400454d8.
 *
 * <p>The JVM needs {@code --enable-native-access=ALL-UNNAMED} (the build passes it to tests). FFM downcalls
 * that block (pty reads, {@code waitpid}) pin a virtual thread's carrier: make them on platform threads.
 */
package dev.podvisor.storage.linux;
