package dev.podvisor.it.snapshotter;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import dev.podvisor.it.snapshotter.api.CleanupRequest;
import dev.podvisor.it.snapshotter.api.CommitSnapshotRequest;
import dev.podvisor.it.snapshotter.api.Info;
import dev.podvisor.it.snapshotter.api.ListSnapshotsRequest;
import dev.podvisor.it.snapshotter.api.ListSnapshotsResponse;
import dev.podvisor.it.snapshotter.api.MountsRequest;
import dev.podvisor.it.snapshotter.api.MountsResponse;
import dev.podvisor.it.snapshotter.api.PrepareSnapshotRequest;
import dev.podvisor.it.snapshotter.api.PrepareSnapshotResponse;
import dev.podvisor.it.snapshotter.api.RemoveSnapshotRequest;
import dev.podvisor.it.snapshotter.api.SnapshotsGrpc;
import dev.podvisor.it.snapshotter.api.StatSnapshotRequest;
import dev.podvisor.it.snapshotter.api.StatSnapshotResponse;
import dev.podvisor.it.snapshotter.api.UpdateSnapshotRequest;
import dev.podvisor.it.snapshotter.api.UpdateSnapshotResponse;
import dev.podvisor.it.snapshotter.api.UsageRequest;
import dev.podvisor.it.snapshotter.api.UsageResponse;
import dev.podvisor.it.snapshotter.api.ViewSnapshotRequest;
import dev.podvisor.it.snapshotter.api.ViewSnapshotResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

/**
 * containerd's {@code containerd.services.snapshots.v1.Snapshots} service over a {@link SnapshotStore}: each call
 * maps to one store call; a store error ({@link StatusRuntimeException}) is the call's status. {@code List}
 * streams every snapshot in batches of {@link #LIST_BATCH} and ignores {@code filters} (containerd only walks a
 * proxy backend without filters, from its garbage collector); {@code Cleanup} has nothing to reclaim (no image
 * outlives its snapshot); {@code Usage} counts the image's allocated bytes and no inodes.
 */
final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {

    /** Infos per {@code ListSnapshotsResponse}. */
    static final int LIST_BATCH = 100;

    private final SnapshotStore store;

    SnapshotsService(SnapshotStore store) {
        this.store = store;
    }

    @Override
    public void prepare(PrepareSnapshotRequest req, StreamObserver<PrepareSnapshotResponse> out) {
        answer(out, () -> PrepareSnapshotResponse.newBuilder()
                .addAllMounts(store.create(req.getKey(), req.getParent(), req.getLabelsMap(), false)).build());
    }

    @Override
    public void view(ViewSnapshotRequest req, StreamObserver<ViewSnapshotResponse> out) {
        answer(out, () -> ViewSnapshotResponse.newBuilder()
                .addAllMounts(store.create(req.getKey(), req.getParent(), req.getLabelsMap(), true)).build());
    }

    @Override
    public void mounts(MountsRequest req, StreamObserver<MountsResponse> out) {
        answer(out, () -> MountsResponse.newBuilder().addAllMounts(store.mounts(req.getKey())).build());
    }

    @Override
    public void commit(CommitSnapshotRequest req, StreamObserver<Empty> out) {
        answer(out, () -> {
            store.commit(req.getName(), req.getKey(), req.getLabelsMap());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void remove(RemoveSnapshotRequest req, StreamObserver<Empty> out) {
        answer(out, () -> {
            store.remove(req.getKey());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void stat(StatSnapshotRequest req, StreamObserver<StatSnapshotResponse> out) {
        answer(out, () -> StatSnapshotResponse.newBuilder().setInfo(info(store.stat(req.getKey()))).build());
    }

    @Override
    public void update(UpdateSnapshotRequest req, StreamObserver<UpdateSnapshotResponse> out) {
        answer(out, () -> UpdateSnapshotResponse.newBuilder().setInfo(info(store.update(req.getInfo().getName(),
                req.getInfo().getLabelsMap(), req.getUpdateMask().getPathsList()))).build());
    }

    @Override
    public void usage(UsageRequest req, StreamObserver<UsageResponse> out) {
        answer(out, () -> UsageResponse.newBuilder().setSize(store.usage(req.getKey())).build());
    }

    @Override
    public void cleanup(CleanupRequest req, StreamObserver<Empty> out) {
        answer(out, Empty::getDefaultInstance);
    }

    @Override
    public void list(ListSnapshotsRequest req, StreamObserver<ListSnapshotsResponse> out) {
        List<Snapshot> all = store.list();
        for (int i = 0; i < all.size(); i += LIST_BATCH) {
            ListSnapshotsResponse.Builder batch = ListSnapshotsResponse.newBuilder();
            all.subList(i, Math.min(all.size(), i + LIST_BATCH)).forEach(s -> batch.addInfo(info(s)));
            out.onNext(batch.build());
        }
        out.onCompleted();
    }

    /** @return the wire form of a snapshot */
    static Info info(Snapshot s) {
        return Info.newBuilder().setName(s.name()).setParent(s.parent()).setKind(s.kind())
                .setCreatedAt(timestamp(s.created())).setUpdatedAt(timestamp(s.updated()))
                .putAllLabels(s.labels()).build();
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    }

    private static <T> void answer(StreamObserver<T> out, Supplier<T> call) {
        T reply;
        try {
            reply = call.get();
        } catch (StatusRuntimeException e) {
            out.onError(e);
            return;
        }
        out.onNext(reply);
        out.onCompleted();
    }
}
