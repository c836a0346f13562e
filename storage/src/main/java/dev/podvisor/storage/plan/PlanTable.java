package dev.podvisor.storage.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * A plan as a human table ({@code podvisor plan} without {@code --json}): one line for the rootfs, one per mount,
 * columns DESTINATION, KIND, DEVICE, SIZE, RO, SCOPE ({@code pod} or {@code container}, see {@link StorageScope}), RULE,
 * then the reason on the next line, indented.
 */
public final class PlanTable {

    private PlanTable() {
    }

    /** Renders the table; lines end with {@code \n}. */
    public static String render(StoragePlan plan) {
        List<String[]> rows = new ArrayList<>();
        List<String> reasons = new ArrayList<>();
        String[] header = {"DESTINATION", "KIND", "DEVICE", "SIZE", "RO", "SCOPE", "RULE"};
        RootfsDecision r = plan.rootfs();
        rows.add(new String[] {"(rootfs)", r.kind().wireName(), r.device(), "-", r.hostMount() ? "host-mount" : "-",
                StorageScope.CONTAINER.wireName(), r.rule()});
        reasons.add(r.reason());
        for (MountDecision d : plan.mounts()) {
            rows.add(new String[] {d.destination(), d.kind().wireName(), d.device().isEmpty() ? "-" : d.device(),
                    d.sizeBytes() > 0 ? GuestPaths.humanBytes(d.sizeBytes()) : "-", d.readOnly() ? "ro" : "rw", d.scope().wireName(), d.rule()});
            reasons.add(d.reason());
        }
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = header[i].length();
            for (String[] row : rows) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append("sandbox ").append(plan.sandboxId()).append(" container ").append(plan.containerId()).append('\n');
        line(out, header, width);
        for (int i = 0; i < rows.size(); i++) {
            line(out, rows.get(i), width);
            out.append("    ").append(reasons.get(i)).append('\n');
        }
        for (DiskAttachment d : plan.disks()) {
            out.append("disk ").append(d.id()).append(": ").append(d.hostPath()).append(d.readOnly() ? " (read-only)" : "")
                    .append(d.type() == DiskAttachment.DiskType.VHOST_USER_BLK ? " vhost-user-blk" : " virtio-blk")
                    .append(" (").append(d.scope().wireName()).append("-scoped)").append('\n');
        }
        for (VirtioFsDevice v : plan.virtioFsDevices()) {
            out.append("virtio-fs device ").append(v.name()).append(": virtiofsd ").append(String.join(" ", v.virtiofsArgs())).append('\n');
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String[] cells, int[] width) {
        for (int i = 0; i < cells.length; i++) {
            out.append(cells[i]);
            if (i < cells.length - 1) {
                out.append(" ".repeat(width[i] - cells[i].length() + 2));
            }
        }
        out.append('\n');
    }
}
