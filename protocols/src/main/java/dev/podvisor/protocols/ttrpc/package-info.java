/**
 * ttrpc (containerd/ttrpc) over unix-domain stream sockets: the frame codec ({@link
 * dev.podvisor.protocols.ttrpc.FrameCodec}, {@link dev.podvisor.protocols.ttrpc.Frame}), a unary server
 * ({@link dev.podvisor.protocols.ttrpc.TtrpcServer}, {@link dev.podvisor.protocols.ttrpc.TtrpcService}) used
 * for containerd's {@code containerd.task.v2.Task}, and a client ({@link dev.podvisor.protocols.ttrpc.TtrpcClient})
 * used for the Kata agent ({@code grpc.AgentService}, {@code grpc.Health}) and containerd's event sink
 * ({@code containerd.services.events.ttrpc.v1.Events}). Streaming RPCs are not implemented: neither
 * containerd's Task service nor the Kata agent API uses them.
 *
 * <p>Virtual threads only (one reader per connection, one per in-flight server call); no Netty.
 */
package dev.podvisor.protocols.ttrpc;
