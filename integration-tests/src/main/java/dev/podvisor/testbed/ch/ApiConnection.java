package dev.podvisor.testbed.ch;

import dev.podvisor.storage.linux.Linux;
import dev.podvisor.testbed.log.TestbedLog;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One API connection (a connected unix stream socket fd, served on a platform thread): reads requests one at
 * a time (keep-alive, as CH's micro_http), with the fds each request brought along ({@link ApiInput}),
 * logs each request and answer ({@code api-request} with {@code fds} = the number of fds received,
 * {@code api-response}, {@code api-bad-request}), answers each before reading the next, and closes on
 * {@code Connection: close}, a framing error (400), end of stream, or after a successful
 * {@code vmm.shutdown} (which then stops the stand-in). Fds a request brought and the VMM did not keep
 * are closed after the answer.
 */
final class ApiConnection {
    private final int fd;
    private final ApiInput in;
    private final OutputStream out;
    private final long id;
    private boolean closed;

    /**
     * @param fd the connected socket, owned by this connection
     * @param id connection number for the log
     */
    ApiConnection(int fd, long id) {
        this.fd = fd;
        this.in = new ApiInput(fd);
        this.out = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                try {
                    Linux.writeFully(fd, b, off, len);
                } catch (dev.podvisor.storage.linux.LinuxException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        };
        this.id = id;
    }

    /** Shuts the socket down (wakes a blocked read); the serving thread closes it. */
    synchronized void close() {
        if (!closed) {
            RawSocket.shutdown(fd);
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
                int[] fds = in.takeFds(in.position());
                Map<String, Object> f = new LinkedHashMap<>();
                f.put("conn", id);
                f.put("method", req.method());
                f.put("path", req.path());
                f.put("body", bodyForLog(req.body()));
                if (fds.length > 0) {
                    f.put("fds", fds.length);
                }
                log.log("ch", "api-request", f);
                boolean exitAfter = req.path().equals(VmmApi.ROOT + "vmm.shutdown") && req.method().equals("PUT");
                CloudHypervisorStandIn.Response r = api.handle(req.method(), req.path(), req.body(), fds);
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
            in.closeFds();
            synchronized (this) {
                closed = true;
                Linux.closeQuietly(fd);
            }
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
