package dev.podvisor.shim;

/**
 * {@code -info} (containerd 2.x calls it per runtime handler): a {@code containerd.types.RuntimeInfo}
 * protobuf on stdout with name=1 and version=2 set. Encoded by hand: two length-delimited string fields, so
 * {@code -info} loads no protobuf classes.
 */
final class RuntimeInfoCommand {

    private RuntimeInfoCommand() {
    }

    static byte[] runtimeInfo() {
        byte[] name = "io.containerd.kata.v2".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] version = TaskService.VERSION.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        var out = new java.io.ByteArrayOutputStream();
        out.write(0x0a);
        out.write(name.length);
        out.writeBytes(name);
        out.write(0x12);
        out.write(version.length);
        out.writeBytes(version);
        return out.toByteArray();
    }
}
