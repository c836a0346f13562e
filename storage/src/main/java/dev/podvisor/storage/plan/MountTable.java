package dev.podvisor.storage.plan;

import dev.podvisor.storage.host.MountInfoEntry;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** mountinfo indexed by mount point (top-most wins), read once per plan so lookups are O(path depth). */
final class MountTable {

    private final Map<String, MountInfoEntry> byPoint;

    MountTable(List<MountInfoEntry> entries) {
        byPoint = HashMap.newHashMap(entries.size());
        for (MountInfoEntry e : entries) {
            byPoint.put(e.mountPoint(), e);
        }
    }

    /** The top-most mount whose mount point is exactly {@code path}. */
    Optional<MountInfoEntry> at(Path path) {
        return Optional.ofNullable(byPoint.get(path.toString()));
    }

    /** The top-most mount with the longest mount point that is {@code path} or an ancestor of it. */
    Optional<MountInfoEntry> containing(Path path) {
        for (Path p = path; p != null; p = p.getParent()) {
            MountInfoEntry e = byPoint.get(p.toString());
            if (e != null) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /**
     * {@code path} as a path inside the filesystem that holds it: the holding mount's {@code root} joined with the
     * part of {@code path} below its mount point (what mountinfo shows as {@code root} for a bind of {@code path}).
     */
    Optional<String> pathInFilesystem(Path path) {
        return containing(path).map(m -> {
            Path rel = Path.of(m.mountPoint()).relativize(path);
            return Path.of(m.root()).resolve(rel).normalize().toString();
        });
    }
}
