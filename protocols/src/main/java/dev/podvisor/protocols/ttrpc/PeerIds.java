package dev.podvisor.protocols.ttrpc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;

/** Numeric uid/gid helpers for SO_PEERCRED principals (the JDK exposes names only). */
final class PeerIds {
    private PeerIds() {
    }

    /** This process's effective uid: the owner of /proc/self. */
    static int ownUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException e) {
            throw new UncheckedIOException("ttrpc: reading own uid from /proc/self", e);
        }
    }

    /** This process's effective gid: the group of /proc/self. */
    static int ownGid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:gid");
        } catch (IOException e) {
            throw new UncheckedIOException("ttrpc: reading own gid from /proc/self", e);
        }
    }

    /** The principal the JDK builds for a numeric uid (equality is by uid). */
    static UserPrincipal userPrincipal(int uid) {
        try {
            return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByName(Integer.toString(uid));
        } catch (IOException e) {
            throw new UncheckedIOException("ttrpc: user principal for uid " + uid, e);
        }
    }

    private static GroupPrincipal groupPrincipal(int gid) {
        try {
            return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(Integer.toString(gid));
        } catch (IOException e) {
            return null;
        }
    }

    /** Numeric uid of a principal: numeric name, our own uid, or /etc/passwd; -1 if unknown. */
    static int uid(UserPrincipal user) {
        int own = ownUid();
        if (user.equals(userPrincipal(own))) {
            return own;
        }
        return resolve(user.getName(), Path.of("/etc/passwd"));
    }

    /** Numeric gid of a principal: numeric name, our own gid, or /etc/group; -1 if unknown. */
    static int gid(GroupPrincipal group) {
        int own = ownGid();
        if (group.equals(groupPrincipal(own))) {
            return own;
        }
        return resolve(group.getName(), Path.of("/etc/group"));
    }

    private static int resolve(String name, Path database) {
        try {
            return Integer.parseInt(name);
        } catch (NumberFormatException notNumeric) {
            // look the name up below
        }
        try {
            List<String> lines = Files.readAllLines(database);
            for (String line : lines) {
                String[] f = line.split(":", -1);
                if (f.length > 2 && f[0].equals(name)) {
                    return Integer.parseInt(f[2]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
