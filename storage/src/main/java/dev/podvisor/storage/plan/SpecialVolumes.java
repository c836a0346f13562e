package dev.podvisor.storage.plan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The container's {@code io.katacontainers.config.runtime.special_volumes}: its tokens, the container path to
 * device map rule 8 ({@link SpecialVolumeRule}) reads, and the run of the {@link SpecialVolumeCheck}s.
 */
final class SpecialVolumes {

    private final List<SpecialVolume> volumes;
    private final Map<String, String> byPath;

    private SpecialVolumes(List<SpecialVolume> volumes) {
        this.volumes = List.copyOf(volumes);
        Map<String, String> map = new LinkedHashMap<>();
        for (SpecialVolume v : volumes) {
            if (v.wellFormed()) {
                map.putIfAbsent(v.normalizedPath(), v.device());
            }
        }
        this.byPath = Collections.unmodifiableMap(map);
    }

    /**
     * Splits the annotation value: entries on {@code ;} (blank ones skipped), the device before an entry's first
     * {@code ':'}, paths on {@code ','}. Never fails; a malformed entry becomes a token that
     * {@link WellFormedCheck} refuses.
     *
     * @param value the annotation value, or null when absent
     */
    static SpecialVolumes parse(String value) {
        List<SpecialVolume> tokens = new ArrayList<>();
        if (value != null) {
            for (String raw : value.split(";")) {
                String entry = raw.trim();
                if (entry.isEmpty()) {
                    continue;
                }
                int colon = entry.indexOf(':');
                String device = colon < 0 ? "" : entry.substring(0, colon).trim();
                String paths = colon < 0 ? entry : entry.substring(colon + 1);
                String[] split = paths.split(",", -1);
                for (String path : split) {
                    tokens.add(new SpecialVolume(entry, device, path.trim()));
                }
            }
        }
        return new SpecialVolumes(tokens);
    }

    List<SpecialVolume> volumes() {
        return volumes;
    }

    /** Normalised container path to device, for the well-formed tokens (the first device named wins). */
    Map<String, String> byPath() {
        return byPath;
    }

    /**
     * Runs the checks of {@code stage} on every token, in token order and {@link SpecialVolumeCheck#ORDER} order;
     * a token a check refuses is not asked further.
     *
     * @throws PlanException {@code annotation io.katacontainers.config.runtime.special_volumes: token '<t>': <problem>}
     */
    static void check(SpecialVolumeCheck.Stage stage, SpecialVolumeContext ctx) {
        for (SpecialVolume volume : ctx.volumes()) {
            for (SpecialVolumeCheck check : SpecialVolumeCheck.ORDER) {
                if (check.stage() != stage) {
                    continue;
                }
                Optional<String> problem = check.problem(volume, ctx);
                if (problem.isPresent()) {
                    throw new PlanException("annotation " + PodStorageConfig.SPECIAL_VOLUMES + ": token '"
                            + volume.token() + "': " + problem.get());
                }
            }
        }
    }
}
