package dev.podvisor.shim.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Path → handler, as Go's {@code http.ServeMux} is used by Kata's shim management server and kata-monitor:
 * exact paths, one handler each, with the methods it accepts. An unknown path answers 404 (listing the known
 * paths), a known path with another method 405, a handler that throws 500 with the message.
 */
public final class HttpRoutes {

    /** Answers one request; may throw (the server answers 500). */
    @FunctionalInterface
    public interface Handler {
        HttpResponse handle(HttpRequest request) throws Exception;
    }

    private record Route(Set<String> methods, Handler handler) {
    }

    private final Map<String, Route> routes = new LinkedHashMap<>();

    /** Adds a GET route. */
    public HttpRoutes get(String path, Handler handler) {
        return add(path, Set.of("GET"), handler);
    }

    /**
     * Adds a route.
     *
     * @throws IllegalArgumentException if {@code path} already has a route or does not start with {@code /}
     */
    public HttpRoutes add(String path, Set<String> methods, Handler handler) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("route path '" + path + "': must start with /");
        }
        if (routes.putIfAbsent(path, new Route(Set.copyOf(methods), handler)) != null) {
            throw new IllegalArgumentException("route path '" + path + "': registered twice");
        }
        return this;
    }

    /** Dispatches {@code request}; never throws. */
    public HttpResponse handle(HttpRequest request) {
        Route route = routes.get(request.path());
        if (route == null) {
            return HttpResponse.text(404, "404 page not found; paths: " + String.join(" ", routes.keySet()) + "\n");
        }
        if (!route.methods().contains(request.method())) {
            return HttpResponse.text(405, "method " + request.method() + " not allowed on " + request.path() + "\n");
        }
        try {
            return route.handler().handle(request);
        } catch (Exception e) {
            return HttpResponse.text(500, String.valueOf(e.getMessage()) + "\n");
        }
    }
}
