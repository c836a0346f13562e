package dev.podvisor.shim.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.podvisor.sandbox.metrics.SandboxProbe;

import dev.podvisor.storage.json.JsonTrees;
import java.io.IOException;

/**
 * The management API's direct-volume paths, as Kata's Go shim serves them (kata-containers:
 * src/runtime/pkg/containerd-shim-v2/shim_management.go {@code serveVolumeStats}, {@code serveVolumeResize}):
 * <ul>
 * <li>{@code GET /direct-volume/stats?path=DEVICE}: the guest's figures as JSON (see
 *     {@link dev.podvisor.sandbox.metrics.GuestVolumes#statsJson}); 400 when {@code path} is missing.</li>
 * <li>{@code POST /direct-volume/resize} with {@code {"VolumePath":"DEVICE","Size":BYTES}} (Go's field names):
 *     an empty 200; 400 when the body is not that.</li>
 * </ul>
 * {@code DEVICE} is the {@code device} of the volume's mountInfo.json, which {@code direct-volume stats|resize}
 * send. 503 before the sandbox has booted; 500 with the agent's message when it refuses.
 */
final class DirectVolumeRoutes {

    static final String STATS = "/direct-volume/stats";
    static final String RESIZE = "/direct-volume/resize";
    /** The query parameter naming the volume (Kata: {@code DirectVolumePathKey}). */
    static final String PATH_KEY = "path";


    private DirectVolumeRoutes() {
    }

    static HttpResponse stats(SandboxProbe probe, HttpRequest request) {
        String device = request.query().get(PATH_KEY);
        if (device == null || device.isEmpty()) {
            return HttpResponse.text(400, "Required parameter " + PATH_KEY + " not found");
        }
        if (probe == null) {
            return HttpResponse.text(503, "sandbox not booted\n");
        }
        return HttpResponse.ok("application/json", probe.volumes().statsJson(device));
    }

    static HttpResponse resize(SandboxProbe probe, HttpRequest request) {
        JsonNode body;
        try {
            body = JsonTrees.parse(request.body());
        } catch (IOException e) {
            return HttpResponse.text(400, "resize request: body is not JSON: " + e.getMessage() + "\n");
        }
        if (body == null || !body.path("VolumePath").isTextual() || body.path("VolumePath").asText().isEmpty()) {
            return HttpResponse.text(400, "resize request: key 'VolumePath': missing or not a string\n");
        }
        JsonNode size = body.path("Size");
        if (!size.canConvertToExactIntegral() || size.asLong() <= 0) {
            return HttpResponse.text(400, "resize request: key 'Size': not a positive number of bytes (" + size + ")\n");
        }
        if (probe == null) {
            return HttpResponse.text(503, "sandbox not booted\n");
        }
        probe.volumes().resize(body.get("VolumePath").asText(), size.asLong());
        return HttpResponse.text(200, "");
    }
}
