package dev.podvisor.storage.virtiofs;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SafeVirtiofsdArgsTest {

    private static final String WHERE = "annotation io.katacontainers.config.hypervisor.virtio_fs_extra_args";

    @Test
    void kataDefaultsAndTuningOptionsPass() {
        List<String> args = List.of("--thread-pool-size=1", "--announce-submounts", "--cache", "never", "--xattr",
                "-o", "xattr,cache=none,no_open", "-oflock", "--inode-file-handles=prefer", "--log-level", "debug");
        assertEquals(args, SafeVirtiofsdArgs.check(args, WHERE));
    }

    private static SafeVirtiofsdArgs.Refused refused(String... args) {
        return assertThrows(SafeVirtiofsdArgs.Refused.class, () -> SafeVirtiofsdArgs.check(List.of(args), WHERE));
    }

    @Test
    void optionsTheShimOwnsAreRefusedByName() {
        SafeVirtiofsdArgs.Refused e = refused("--thread-pool-size=1", "--shared-dir=/");
        assertEquals(WHERE + ": virtiofsd argument '--shared-dir=/' is not allowed (the shim sets it)", e.getMessage());
        assertEquals("--shared-dir=/", e.token());
        assertEquals(WHERE, e.where());
        assertEquals("--socket-path", refused("--socket-path", "/tmp/x").token());
        assertEquals("--fd=3", refused("--fd=3").token());
        assertEquals("--sandbox=none", refused("--sandbox=none").token());
        assertEquals("--seccomp", refused("--seccomp", "none").token());
        assertEquals("-o source=/", refused("-o", "cache=none,source=/").token());
        assertEquals("-o source=/etc", refused("-osource=/etc").token());
        assertEquals("--modcaps=+sys_admin", refused("--modcaps=+sys_admin").token());
        assertEquals("--uid-map=:0:1000:1:", refused("--uid-map=:0:1000:1:").token());
    }

    @Test
    void unknownOptionsAndBadValuesAreRefused() {
        assertEquals("--no-such-option", refused("--no-such-option").token());
        assertEquals("/etc/passwd", refused("/etc/passwd").token());
        assertEquals("--thread-pool-size=lots", refused("--thread-pool-size=lots").token());
        assertEquals("--cache", refused("--cache").token());
        assertEquals("-o", refused("-o").token());
        assertEquals("-o cache=weird", refused("-o", "cache=weird").token());
    }

    @Test
    void theQemuCDaemonsTuningOptionsPass() {
        List<String> args = List.of("--thread-pool-size=1", "-o", "announce_submounts", "-f", "--syslog",
                "-o", "cache=none,timeout=86400,no_posix_acl,security_label,max_idle_threads=4,no_allow_direct_io",
                "-o", "debug", "--rlimit-nofile=4096");
        assertEquals(args, SafeVirtiofsdArgs.check(args, WHERE));
    }

    @Test
    void theQemuCDaemonsDangerousOptionsAreRefusedByName() {
        assertEquals(WHERE + ": virtiofsd argument '--daemonize' is not allowed (the shim runs virtiofsd in the foreground)",
                refused("--daemonize").getMessage());
        assertEquals(WHERE + ": virtiofsd argument '-o sandbox=chroot' is not allowed (it changes what the guest reaches on the host)",
                refused("-o", "cache=auto,sandbox=chroot").getMessage());
        assertEquals("-o xattrmap=:map::user.virtiofs.:", refused("-o", "xattrmap=:map::user.virtiofs.:").token());
        assertEquals("-o modcaps=+sys_admin", refused("-omodcaps=+sys_admin").token());
        assertEquals("-o allow_root", refused("-o", "allow_root").token());
        assertEquals("--socket-path=/tmp/s", refused("--socket-path=/tmp/s").token());
        assertEquals("-o max_idle_threads=many", refused("-o", "max_idle_threads=many").token());
    }
}
