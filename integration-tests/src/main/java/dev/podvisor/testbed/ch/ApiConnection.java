package dev.podvisor.testbed.ch;

import dev.podvisor.testbed.log.TestbedLog;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One API connection: reads requests one at a time (keep-alive, as CH's micro_http), logs each request and
 * answer ({@code api-request}, {@code api-response}, {@code api-bad-request}), answers each before reading
 * the next, and closes on {@code Connection: close}, a framing error (400), end of stream, or after a
 * successful {@code vmm.shutdown} (which then stops the stand-in).
 */
final class ApiConnection {
    private final InputStream in;
    private final OutputStream out;
    private final Closeable closer;
    private final long id;

    /**
     * @param in     the connection's input
     * @param out    the connection's output
     * @param closer closes the connection (and wakes a blocked read)
     * @param id     connection number for the log
     */
    ApiConnection(InputStream in, OutputStream out, Closeable closer, long id) {
        this.in = in;
        this.out = out;
        this.closer = closer;
        this.id = id;
    }

    /** Closes the connection, ignoring errors. */
    void close() {
        try {
            closer.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /**
     * Serves requests until the connection ends; closes it.
     *
     * @param api    the router
     * @param log    the VM's log
     * @param onVmmShutdown run after a successful {@code vmm.shutdown} was answered
     */
    void serve(VmmApi api, TestbedLog log, Runnable onVmmShutdown) {
        try {
            while (true) {
                MiniHttp.Request req;
                try {
                    req = MiniHttp.read(in, out);
                } catch (MiniHttp.BadRequest e) {
                    log.log("ch", "api-bad-request", Map.of("conn", id, "error", e.getMessage()));
                    MiniHttp.write(out, 400, VmmApi.errorBody(List.of("Bad Request", e.getMessage())), true);
                    return;
                }
                if (req == null) {
                    return;
                }
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("conn", id);
                f.put("method", req.method());
                f.put("path", req.path());
                f.put("body", bodyForLog(req.body()));
                log.log("ch", "api-request", f);
                boolean exitAfter = req.path().equals(VmmApi.ROOT + "vmm.shutdown") && req.method().equals("PUT");
                CloudHypervisorStandIn.Response r = api.handle(req.method(), req.path(), req.body());
                Map<String, Object> g = new LinkedHashMap<>();
                g.put("conn", id);
                g.put("path", req.path());
                g.put("status", r.status());
                g.put("body", r.body() == null ? null : bodyForLog(r.body().getBytes(StandardCharsets.UTF_8)));
                log.log("ch", "api-response", g);
                boolean stop = exitAfter && r.status() == 204;
                MiniHttp.write(out, r.status(), r.body(), req.wantsClose() || stop);
                if (stop) {
                    Thread.ofVirtual().start(onVmmShutdown);
                    return;
                }
                if (req.wantsClose()) {
                    return;
                }
            }
        } catch (IOException e) {
            // client went away
        } finally {
            close();
        }
    }

    private static Object bodyForLog(byte[] body) {
        if (body == null || body.length == 0) {
            return null;
        }
        try {
            return Vm.JSON.readTree(body);
        } catch (IOException e) {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
