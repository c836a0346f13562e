package dev.podvisor.sandbox;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.podvisor.protocols.agent.VolumeStatsResponse;
import dev.podvisor.protocols.agent.VolumeUsage;
import dev.podvisor.sandbox.agent.AgentClient;
import dev.podvisor.sandbox.metrics.GuestVolumes;
import dev.podvisor.storage.json.JsonTrees;
import dev.podvisor.storage.plan.DirectVolumeInfo;
import dev.podvisor.storage.plan.GuestPaths;

import java.math.BigInteger;

/**
 * Direct volumes through the agent: the device's guest mount point is where the planner mounts every direct
 * volume, {@code /run/kata-containers/sandbox/storage/<base64url(device)>} (see {@code DirectVolumeRule}), and
 * the agent's GetVolumeStats / ResizeVolume act on it. The stats JSON has the shape Go's encoding/json gives
 * Kata's VolumeStatsResponse (zero values left out, the unit as its number).
 */
final class AgentGuestVolumes implements GuestVolumes {


    private final AgentClient agent;

    AgentGuestVolumes(AgentClient agent) {
        this.agent = agent;
    }

    /** The guest mount point of the direct volume recorded with {@code device}. */
    static String guestMountPoint(String device) {
        String file = DirectVolumeInfo.deviceFile(device);
        if (!file.startsWith("/")) {
            throw new IllegalArgumentException("direct volume device '" + device + "': not an absolute path");
        }
        return GuestPaths.STORAGE + "/" + GuestPaths.base64Url(file);
    }

    @Override
    public String statsJson(String device) {
        String mountPoint = guestMountPoint(device);
        VolumeStatsResponse stats;
        try {
            stats = agent.volumeStats(mountPoint);
        } catch (RuntimeException e) {
            throw new IllegalStateException("direct volume " + device + " (guest " + mountPoint + "): GetVolumeStats: "
                    + e.getMessage(), e);
        }
        return toJson(stats);
    }

    @Override
    public void resize(String device, long sizeBytes) {
        String mountPoint = guestMountPoint(device);
        try {
            agent.resizeVolume(mountPoint, sizeBytes);
        } catch (RuntimeException e) {
            throw new IllegalStateException("direct volume " + device + " (guest " + mountPoint + "): ResizeVolume: "
                    + e.getMessage(), e);
        }
    }

    /** Go encoding/json of the agent's answer: {@code omitempty} on every field, enums as numbers. */
    static String toJson(VolumeStatsResponse stats) {
        ObjectNode root = JsonTrees.NODES.objectNode();
        if (stats.getUsageCount() > 0) {
            ArrayNode usage = root.putArray("usage");
            for (VolumeUsage u : stats.getUsageList()) {
                ObjectNode n = usage.addObject();
                putNonZero(n, "available", u.getAvailable());
                putNonZero(n, "total", u.getTotal());
                putNonZero(n, "used", u.getUsed());
                putNonZero(n, "unit", u.getUnitValue());
            }
        }
        if (stats.hasVolumeCondition()) {
            ObjectNode c = root.putObject("volume_condition");
            if (stats.getVolumeCondition().getAbnormal()) {
                c.put("abnormal", true);
            }
            if (!stats.getVolumeCondition().getMessage().isEmpty()) {
                c.put("message", stats.getVolumeCondition().getMessage());
            }
        }
        return root.toString();
    }

    private static void putNonZero(ObjectNode node, String key, long unsigned) {
        if (unsigned != 0) {
            node.put(key, new BigInteger(Long.toUnsignedString(unsigned)));
        }
    }
}
