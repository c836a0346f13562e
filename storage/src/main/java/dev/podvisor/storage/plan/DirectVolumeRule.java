package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.FileStat;
import dev.podvisor.storage.host.FsProbe;
import dev.podvisor.storage.spec.OciMount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Rule 6: a direct volume, i.e. a {@code mountInfo.json} exists for the mount's source (plain {@code bind} mounts
 * included, as Kubernetes CSI delivers them), or the mount type is {@code directvol}/{@code spdkvol}/{@code vfiovol}.
 * {@code directvol} (also {@code block}/{@code blk}) becomes virtio-blk of {@code device} mounted with {@code fstype};
 * {@code spdkvol}/{@code spoolvol} becomes vhost-user-blk. {@code bind}/{@code rbind} are dropped from the guest mount
 * options (kata-containers#11296). Follows Kata runtime-rs direct_volume.rs and Go pkg/direct-volume.
 */
final class DirectVolumeRule implements MountRule {

    private static final Set<String> TYPES = Set.of("directvol", "spdkvol", "vfiovol", "spoolvol");

    @Override
    public String id() {
        return "direct-volume";
    }

    @Override
    public Optional<PlanBuilder.Placement> apply(MountContext ctx) {
        OciMount m = ctx.mount();
        boolean typed = TYPES.contains(m.type());
        if (!typed && !ctx.isHostBind()) {
            return Optional.empty();
        }
        PlanBuilder plan = ctx.plan();
        Optional<String> json = plan.facts.directVolumeMountInfo(m.source());
        if (json.isEmpty()) {
            if (typed) {
                throw new PlanException("mount " + ctx.destination() + ": type '" + m.type() + "' but no direct-volume mountInfo.json for source '"
                        + m.source() + "' (kata-runtime direct-volume add --volume-path " + m.source() + ")");
            }
            return Optional.empty();
        }
        DirectVolumeInfo info = DirectVolumeInfo.parse(json.get(), m.source());
        String at = "mountInfo.json of direct volume " + m.source();
        String vt = info.volumeType();
        DiskAttachment.DiskType type = info.diskType(m.source());
        String device = info.hostDevice(m.source());
        if (info.fstype().isEmpty()) {
            throw new PlanException(at + ": key 'fstype': missing");
        }
        Optional<FileStat> st = plan.facts.stat(Path.of(device));
        if (st.isEmpty()) {
            throw new PlanException(at + ": key 'device': '" + device + "' does not exist");
        }
        boolean readOnly = m.readOnly() || info.options().contains("ro");
        String what;
        if (type == DiskAttachment.DiskType.VHOST_USER_BLK) {
            if (st.get().type() != FileStat.FileType.SOCKET) {
                throw new PlanException(at + ": key 'device': '" + device + "' is not a unix socket (volume-type " + vt + ")");
            }
            what = "vhost-user-blk socket " + device;
        } else if (st.get().isBlockDevice()) {
            boolean blkRo = plan.facts.blockDeviceReadOnly(Path.of(device));
            readOnly |= blkRo;
            what = "block device " + device + (blkRo ? " (read-only per BLKROGET)" : "");
        } else if (st.get().isRegularFile()) {
            // issue 8, case 8: a plain host file becomes a disk only when it already is one
            FsProbe probe = plan.facts.probeFilesystem(Path.of(device));
            if (!probe.holds(info.fstype())) {
                throw new PlanException(at + ": key 'device': image file '" + device + "' does not hold a "
                        + info.fstype() + " file system (" + (probe.type().isEmpty() ? "none recognised" : "found " + probe.type())
                        + "); an image file must already hold the declared file system and is never formatted");
            }
            what = "image file " + device;
        } else {
            throw new PlanException(at + ": key 'device': '" + device + "' is neither a block device nor a regular file");
        }
        String id = plan.disk(device, readOnly, type);
        List<String> driverOptions = new ArrayList<>();
        Map<String, String> md = info.metadata();
        String key = md.get("encryptionKey");
        if (Boolean.parseBoolean(md.getOrDefault("createFilesystem", "false"))) {
            boolean format = true;
            if (type == DiskAttachment.DiskType.VIRTIO_BLK) {
                // the guest formats a device without the declared file system: only a blank one may be handed over
                FsProbe probe = plan.facts.probeFilesystem(Path.of(device));
                if (!probe.holds(info.fstype()) && !probe.blank()) {
                    throw new PlanException(at + ": key 'metadata.createFilesystem': '" + device + "' holds "
                            + (probe.type().isEmpty() ? "data" : "a " + probe.type() + " file system")
                            + " and no " + info.fstype() + " file system; it would be formatted, which Podvisor refuses");
                }
                // the kata-agent (4.x block_handler.rs) runs mkfs.ext4 -F whenever create_filesystem is set, also on a
                // device that holds the file system and its data already: only a blank device gets the option, unless
                // the volume is ephemerally encrypted (that path always makes a new file system, and the agent
                // refuses encryption_key=ephemeral without create_filesystem)
                format = probe.blank() || key != null;
            }
            if (format) {
                driverOptions.add("create_filesystem");
            }
        }
        if (key != null) {
            if (!key.equals("ephemeral")) {
                throw new PlanException(at + ": key 'metadata.encryptionKey': '" + key + "' (only 'ephemeral' is supported)");
            }
            driverOptions.add("encryption_key=ephemeral");
        }
        GuestStorage.FsGroup group = null;
        String gid = md.get("fsGroup");
        if (gid != null) {
            try {
                String policy = md.getOrDefault("fsGroupChangePolicy", "Always");
                if (!policy.equals("Always") && !policy.equals("OnRootMismatch")) {
                    throw new PlanException(at + ": key 'metadata.fsGroupChangePolicy': '" + policy + "' (allowed: Always, OnRootMismatch)");
                }
                group = new GuestStorage.FsGroup(Integer.parseInt(gid), policy.equals("OnRootMismatch"));
            } catch (NumberFormatException e) {
                throw new PlanException(at + ": key 'metadata.fsGroup': '" + gid + "' is not a gid", e);
            }
        }
        List<String> options = new ArrayList<>(info.guestOptions());
        if (readOnly) {
            options.remove("rw");
            if (!options.contains("ro")) {
                options.add("ro");
            }
        }
        String mp = GuestPaths.STORAGE + "/" + GuestPaths.base64Url(device);
        plan.storage(new GuestStorage("blk", driverOptions, "disk:" + id, info.fstype(), options, mp, group, false, 0, id));
        MountKind kind = type == DiskAttachment.DiskType.VIRTIO_BLK ? MountKind.VIRTIO_BLK : MountKind.VHOST_USER_BLK;
        String dropped = info.options().size() != info.guestOptions().size() ? "; bind/rbind dropped from the guest mount options" : "";
        String why = "direct volume (" + vt + ") recorded for " + m.source() + ": " + what + " with " + info.fstype() + " attached as "
                + kind.wireName() + (readOnly ? ", read-only" : "") + dropped;
        return Optional.of(ctx.placement(kind, id, 0, readOnly, id(), why, mp));
    }
}
