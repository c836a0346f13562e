package dev.podvisor.storage.exec;

import dev.podvisor.storage.plan.GuestPaths;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The host side of a sandbox's virtio-fs shares. Layout (Kata runtime-rs share_fs): for the default device
 * {@code <share root>/<sid>/rw/} is the writable tree where binds are made and {@code <share root>/<sid>/ro/} a read-only,
 * slave bind of it that virtiofsd serves ({@code --shared-dir}); an extra device {@code <dev>} uses
 * {@code <share root>/<sid>/<dev>/rw} and {@code .../ro}.
 *
 * <p>One host bind per share name (i.e. per source and mode) per sandbox, ref-counted by holder (a container id):
 * acquiring twice for the same holder counts once, so release is idempotent. A read-only share is bound read-only and
 * its propagated twin under {@code ro/} is remounted read-only too, so a guest cannot write through it.
 *
 * <p>Thread-safe.
 */
public final class SandboxShares {

    /** Kata's host share root. */
    public static final Path DEFAULT_ROOT = Path.of("/run/kata-containers/shared/sandboxes");

    private final Path sandboxDir;
    private final MountOperations ops;
    private final Map<String, Share> shares = new HashMap<>();
    private final Set<String> prepared = new HashSet<>();

    private record Share(String source, boolean readOnly, Set<String> holders) {
    }

    /**
     * @param shareRoot the share root ({@link #DEFAULT_ROOT} in production)
     * @param sandboxId the sandbox id
     * @param ops       host mount operations
     */
    public SandboxShares(Path shareRoot, String sandboxId, MountOperations ops) {
        this.sandboxDir = shareRoot.resolve(sandboxId);
        this.ops = Objects.requireNonNull(ops);
    }

    private Path deviceDir(String device) {
        return device.equals(GuestPaths.KATA_SHARED) ? sandboxDir : sandboxDir.resolve(device);
    }

    /** The writable tree of {@code device}. */
    public Path writableDir(String device) {
        return deviceDir(device).resolve("rw");
    }

    /** The read-only tree of {@code device}: virtiofsd's {@code --shared-dir}. */
    public Path sharedDir(String device) {
        return deviceDir(device).resolve("ro");
    }

    private Path target(String device, String shareName) {
        Path rw = writableDir(device);
        Path t = rw.resolve(shareName).normalize();
        if (!t.startsWith(rw) || t.equals(rw)) {
            throw new IllegalArgumentException("share name '" + shareName + "': not a path inside " + rw);
        }
        return t;
    }

    /**
     * Creates {@code rw/} and {@code ro/} of {@code device} and binds {@code rw} on {@code ro} read-only as a slave, so
     * later binds under {@code rw/} appear under {@code ro/}. Call once per device before starting its virtiofsd.
     */
    public synchronized void prepare(String device) {
        if (prepared.contains(device)) {
            return;
        }
        Path rw = writableDir(device);
        Path ro = sharedDir(device);
        ops.mkdirs(rw);
        ops.mkdirs(ro);
        // rw becomes a shared mount of its own and ro a read-only slave of it: a share bound into rw after the
        // VM booted still shows up under ro, which virtiofsd serves (Kata relies on a shared / for this)
        ops.bind(rw, rw, false);
        ops.makeShared(rw);
        ops.bind(rw, ro, true);
        ops.makeSlave(ro);
        prepared.add(device);
    }

    /** Undoes {@link #prepare}: unmounts {@code ro/} and removes the device's directories when empty. Idempotent. */
    public synchronized void teardown(String device) {
        Path ro = sharedDir(device);
        while (ops.unmount(ro)) {
            // unmount every stacked mount
        }
        while (ops.unmount(writableDir(device))) {
            // rw's bind onto itself
        }
        ops.remove(ro);
        ops.remove(writableDir(device));
        if (!device.equals(GuestPaths.KATA_SHARED)) {
            ops.remove(deviceDir(device));
        }
        prepared.remove(device);
        if (device.equals(GuestPaths.KATA_SHARED)) {
            ops.remove(sandboxDir);
        }
    }

    /**
     * Makes {@code source} visible under {@code shareName} on {@code device} for {@code holder}; binds it on first use.
     *
     * @return the host path of the share ({@code .../rw/<shareName>})
     * @throws IllegalStateException when the share name is held with another source or mode
     */
    public synchronized Path acquire(String holder, String device, String shareName, Path source, boolean readOnly, boolean directory) {
        String key = device + "\0" + shareName;
        Path t = target(device, shareName);
        Share s = shares.get(key);
        if (s != null) {
            if (!s.source().equals(source.toString()) || s.readOnly() != readOnly) {
                throw new IllegalStateException("share " + shareName + " on " + device + ": held for " + s.source()
                        + (s.readOnly() ? " (ro)" : " (rw)") + ", wanted for " + source + (readOnly ? " (ro)" : " (rw)"));
            }
            s.holders().add(holder);
            return t;
        }
        ops.mkdirs(t.getParent());
        if (directory) {
            ops.mkdirs(t);
        } else {
            ops.touch(t);
        }
        try {
            ops.bind(source, t, readOnly);
            if (readOnly && prepared.contains(device)) {
                ops.remountReadOnly(sharedDir(device).resolve(shareName));
            }
        } catch (RuntimeException e) {
            ops.unmount(t);
            removeUpTo(t, writableDir(device));
            throw e;
        }
        Set<String> holders = new LinkedHashSet<>();
        holders.add(holder);
        shares.put(key, new Share(source.toString(), readOnly, holders));
        return t;
    }

    /**
     * Registers {@code holder} for a share that is already bound (after a restart, from persisted records), without
     * touching the host.
     */
    public synchronized void restore(String holder, String device, String shareName, Path source, boolean readOnly) {
        shares.computeIfAbsent(device + "\0" + shareName, k -> new Share(source.toString(), readOnly, new LinkedHashSet<>()))
                .holders().add(holder);
    }

    /**
     * Drops {@code holder} from the share; the last holder unmounts it and removes its mount point. A share this
     * instance does not know (a crashed process's) is unmounted. Idempotent.
     *
     * @return true when the host bind was removed by this call
     */
    public synchronized boolean release(String holder, String device, String shareName) {
        String key = device + "\0" + shareName;
        Share s = shares.get(key);
        if (s != null) {
            s.holders().remove(holder);
            if (!s.holders().isEmpty()) {
                return false;
            }
            shares.remove(key);
        }
        Path t = target(device, shareName);
        boolean unmounted = ops.unmount(t);
        removeUpTo(t, writableDir(device));
        return unmounted;
    }

    /** The number of holders of a share (0 when unknown). */
    public synchronized int holders(String device, String shareName) {
        Share s = shares.get(device + "\0" + shareName);
        return s == null ? 0 : s.holders().size();
    }

    /** Creates a directory in the share (a guest mount point on the read-only virtio-fs); returns its host path. */
    public synchronized Path createMountPoint(String device, String shareName) {
        Path t = target(device, shareName);
        ops.mkdirs(t);
        return t;
    }

    /** Removes a directory made by {@link #createMountPoint} and its empty parents inside the share. Idempotent. */
    public synchronized void removeMountPoint(String device, String shareName) {
        removeUpTo(target(device, shareName), writableDir(device));
    }

    private void removeUpTo(Path path, Path stop) {
        for (Path p = path; p != null && !p.equals(stop) && p.startsWith(stop); p = p.getParent()) {
            if (!ops.remove(p)) {
                break;
            }
        }
    }
}
